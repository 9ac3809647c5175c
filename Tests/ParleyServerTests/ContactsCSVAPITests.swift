import Foundation
import Hummingbird
import ParleyCore
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Contacts CSV API")
struct ContactsCSVAPITests {
    @Test(arguments: TestBackend.all)
    func importReportsBadRowsAndKeepsGoodOnes(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            _ = try await api.send(.post, "/api/v1/custom-fields", json: ["key": "plan", "label": "Plan", "type": "list", "options": ["free", "pro"]])
            _ = try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Old", "email": "keep@example.com"])
            var csv = "firstName,lastName,email,phone,tags,plan\n"
            csv += "José,Núñez,jose@example.com,+52 55 1234 5678,vip;beta,pro\n"   // line 2: new
            csv += "Bad,Email,not-an-email,,,\n"                                   // line 3: rejected
            csv += "Kept,Updated,KEEP@example.com,,,free\n"                         // line 4: updates by email
            csv += "Wrong,Plan,x@example.com,,,gold\n"                             // line 5: rejected
            csv += "\"Multi\nLine\",Name,multi@example.com,,,\n"                    // line 6: new, spans two lines
            csv += "Short,Row\n"                                                   // line 8: rejected
            for index in 0..<600 { csv += "Bulk\(index),Person,bulk\(index)@example.com,,,\n" }  // more than one batch
            let reply = try await api.send(.post, "/api/v1/contacts/import", raw: csv)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["created"] as? Int == 602)
            #expect(reply.json["updated"] as? Int == 1)
            #expect(reply.json["rejectedCount"] as? Int == 3)
            let rejected = try #require(reply.json["rejected"] as? [[String: Any]])
            #expect(rejected.compactMap { $0["line"] as? Int } == [3, 5, 8])
            #expect((rejected.first?["reason"] as? String)?.contains("email") == true)

            let found = try await api.send(.get, "/api/v1/contacts?q=nunez")
            let contact = try #require(found.items.first)
            #expect(contact["phone"] as? String == "+525512345678")
            #expect(contact["tags"] as? [String] == ["beta", "vip"])
            let kept = try await api.send(.get, "/api/v1/contacts?q=keep@example.com")
            #expect(kept.items.count == 1)
            #expect(kept.items.first?["firstName"] as? String == "Kept")
            #expect(try await api.count("contacts") == 603)
        }
    }

    @Test(arguments: TestBackend.all)
    func badFilesAreRefusedWhole(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            for body in ["firstName,shoeSize\nAna,38\n", "", "\n\n"] {
                let reply = try await api.send(.post, "/api/v1/contacts/import", raw: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.errorCode == "invalid_csv" || reply.errorCode == "invalid_request", "\(body)")
            }
            let agent = try await api.user(.agent)
            #expect(try await api.send(.post, "/api/v1/contacts/import", token: agent.token, raw: "firstName\nAna\n").status == .forbidden)
            #expect(try await api.send(.get, "/api/v1/contacts/export", token: agent.token).status == .forbidden)
            #expect(try await api.count("contacts") == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func exportReadsBackThroughImport(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            _ = try await api.send(.post, "/api/v1/custom-fields", json: ["key": "seats", "label": "Seats", "type": "number"])
            _ = try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Zoë", "lastName": "O'Neil, Jr", "email": "zoe@example.com",
                                                                     "tags": ["a", "b"], "customFields": ["seats": 12]])
            _ = try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Line\nBreak", "phone": "+14155550000"])
            let export = try await api.send(.get, "/api/v1/contacts/export")
            #expect(export.status == .ok)
            #expect(export.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = export.text.components(separatedBy: "\r\n")
            #expect(lines.first == "firstName,lastName,email,phone,language,country,tags,seats")
            #expect(export.text.contains("Zoë,\"O'Neil, Jr\",zoe@example.com,,,,a;b,12"))
            // Importing the export again matches every contact and changes nothing.
            let again = try await api.send(.post, "/api/v1/contacts/import", raw: export.text)
            #expect(again.json["created"] as? Int == 0)
            #expect(again.json["updated"] as? Int == 2)
            #expect(again.json["rejectedCount"] as? Int == 0)
        }
    }
}
