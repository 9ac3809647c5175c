import Foundation
import ParleyCore
import ParleyTestSupport
import Testing

/// Search text arrives as browsers encode it (URLSearchParams: a space is "+", a plus is %2B):
/// "Rosa+Martínez" is the name with a space, and an email with a plus keeps it.
@Suite("Search query encoding")
struct SearchQueryEncodingTests {
    @Test(arguments: TestBackend.all)
    func aSpaceEncodedAsPlusFindsTheFullName(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (_, contact) = try await api.contactOn(.whatsapp, wroteAgo: 60, name: "Rosa Martínez")
            _ = try await api.send(.patch, "/api/v1/contacts/\(contact)", json: ["email": "rosa+shop@example.com"])
            _ = try await api.contactOn(.whatsapp, wroteAgo: 60, name: "Rosa Delgado")
            for path in ["/api/v1/conversations?status=all&q=", "/api/v1/contacts?q="] {
                let spaced = try await api.send(.get, path + "Rosa+Mart%C3%ADnez")
                #expect(spaced.items.count == 1, "\(path) \(spaced.text)")
                let percent = try await api.send(.get, path + "Rosa%20Mart%C3%ADnez")
                #expect(percent.items.count == 1, "\(path)")
                let email = try await api.send(.get, path + "rosa%2Bshop%40example.com")
                #expect(email.items.count == 1, "\(path) \(email.text)")
            }
        }
    }
}
