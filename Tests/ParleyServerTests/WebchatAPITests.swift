import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Website chat: channel settings and the widget's routes")
struct WebchatAPITests {
    @Test(arguments: TestBackend.all)
    func settingsAreCheckedAndShownWithTheSnippet(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let bad = try await api.send(.post, "/api/v1/channels", json: ["type": "webchat", "name": "Chat", "webchat": ["allowedOrigins": ["shop.example/path"]]])
            #expect(bad.status == .badRequest)
            #expect(bad.errorField == "webchat.allowedOrigins")
            let color = try await api.send(.post, "/api/v1/channels", json: ["type": "webchat", "name": "Chat", "webchat": ["color": "blue"]])
            #expect(color.errorField == "webchat.color")
            let agent = try await api.user(.agent)
            #expect(try await api.send(.post, "/api/v1/channels", token: agent.token, json: ["type": "webchat", "name": "Chat"]).status == .forbidden)
            #expect(try await api.count("channels") == 0)

            let site = try await WebchatSite.create(api, settings: ["allowedOrigins": ["HTTPS://Shop.Example:443", "http://localhost:3000"],
                                                                   "officeHours": ["timeZone": "Europe/Berlin", "days": [1, 2, 3], "opens": "09:00", "closes": "17:00"]])
            let shown = try await api.send(.get, "/api/v1/channels/\(site.channelId)")
            let view = try #require(shown.json["webchat"] as? [String: Any])
            #expect(view["allowedOrigins"] as? [String] == ["https://shop.example", "http://localhost:3000"])
            #expect(view["snippet"] as? String == #"<script src="https://parley.example.com/widget.js" data-channel="\#(site.key)" async></script>"#)
            #expect(view["identitySecret"] == nil, "the secret is shown once, when created")
            #expect(!shown.text.contains(site.identitySecret))
            #expect(((view["officeHours"] as? [String: Any])?["days"] as? [Int]) == [1, 2, 3])

            let patched = try await api.send(.patch, "/api/v1/channels/\(site.channelId)", json: ["webchat": ["color": "#FF0000", "greeting": "Hello!", "officeHours": NSNull()]])
            #expect(patched.status == .ok, "\(patched.text)")
            let after = try #require(patched.json["webchat"] as? [String: Any])
            #expect(after["color"] as? String == "#ff0000")
            #expect(after["greeting"] as? String == "Hello!")
            #expect(after["officeHours"] == nil || after["officeHours"] is NSNull)
            #expect(after["allowedOrigins"] as? [String] == ["https://shop.example", "http://localhost:3000"])
            let listed = try await api.send(.get, "/api/v1/channels")
            #expect((listed.items.first?["webchat"] as? [String: Any])?["key"] as? String == site.key)

            let sms = try await api.send(.post, "/api/v1/channels", json: ["type": "sms", "name": "SMS", "credentials": ["accountSid": "AC1", "authToken": "t", "from": "+15550100"],
                                                                          "verifyCredentials": false])
            let smsId = try #require((sms.json["id"] as? NSNumber)?.int64Value)
            #expect(try await api.send(.patch, "/api/v1/channels/\(smsId)", json: ["webchat": ["color": "#000000"]]).errorField == "webchat")
        }
    }

    @Test(arguments: TestBackend.all)
    func aVisitorBecomesAContactAndReopensTheirConversation(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let site = try await WebchatSite.create(api)
            let start = try await site.session()
            #expect(start.status == .ok)
            let token = try #require(start.json["token"] as? String)
            #expect((start.json["visitor"] as? [String: Any])?["known"] as? Bool == false)
            #expect(try await api.count("contacts") == 0, "a page view creates nothing")

            let first = try await site.write(token, "Hello <b>there</b>", extra: ["name": "Pat Visitor", "email": "pat@example.com", "clientId": "c-1"])
            #expect(first.status == .created, "\(first.text)")
            #expect(first.json["from"] as? String == "visitor")
            #expect(first.json["text"] as? String == "Hello <b>there</b>")
            let contactId = try await site.contactId(of: token)
            let contact = try await api.send(.get, "/api/v1/contacts/\(contactId)")
            #expect(contact.json["name"] as? String == "Pat Visitor")
            #expect(contact.json["email"] as? String == "pat@example.com")
            #expect(try await api.send(.get, "/api/v1/contacts/\(contactId)/conversation").json["status"] as? String == "open")

            // A retried send (same clientId) is stored once.
            let retry = try await site.write(token, "Hello <b>there</b>", extra: ["clientId": "c-1"])
            #expect(retry.status == .ok)
            #expect(try await api.count("messages") == 1)

            #expect(try await api.send(.post, "/api/v1/contacts/\(contactId)/conversation/close", json: [:]).status == .ok)
            #expect(try await site.write(token, "One more thing").status == .created)
            #expect(try await api.send(.get, "/api/v1/contacts/\(contactId)/conversation").json["status"] as? String == "open", "the visitor reopens it")

            let resumed = try await site.session(token: token)
            #expect(resumed.json["token"] as? String == token)
            #expect((resumed.json["visitor"] as? [String: Any])?["known"] as? Bool == true)
            #expect((resumed.json["messages"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == ["Hello <b>there</b>", "One more thing"])
            let page = try await site.call(.get, "/widget/v1/messages", visitor: token)
            #expect(page.items.count == 2)
        }
    }

    @Test(arguments: TestBackend.all)
    func agentsRepliesReachTheVisitorAndAreAcknowledged(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let site = try await WebchatSite.create(api)
            let token = try await site.visitor()
            _ = try await site.write(token, "Is it in stock?")
            let contactId = try await site.contactId(of: token)
            let sent = try await api.send(.post, "/api/v1/contacts/\(contactId)/messages", json: ["channelId": site.channelId, "text": "Yes, it is."])
            #expect(sent.status == .created, "\(sent.text)")
            let messageId = try sentMessageId(sent)
            #expect(try await OutboxWorker(services: api.services).runOnce() == 1)
            #expect(try await api.messageState(messageId).status == "sent")

            let session = try await site.session(token: token)
            #expect(session.json["unread"] as? Int == 1)
            let reply = try #require((session.json["messages"] as? [[String: Any]])?.last)
            #expect(reply["from"] as? String == "agent")
            #expect(reply["author"] as? String == "Owner")
            #expect(reply["text"] as? String == "Yes, it is.")

            let identity = try #require(try await api.services.webchat.visitor(channelId: site.channelId, externalId: try site.externalId(of: token)))
            #expect(try await api.services.webchat.acknowledge(identityId: identity.identityId, workspaceId: 1, throughId: messageId, status: .read, at: api.clock.now()) == 1)
            #expect(try await api.messageState(messageId).status == "read")
            #expect(try await api.services.webchat.acknowledge(identityId: identity.identityId, workspaceId: 1, throughId: messageId, status: .delivered, at: api.clock.now()) == 0,
                    "statuses only move forward")
            #expect(try await site.session(token: token).json["unread"] as? Int == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func originsOutsideTheChannelsSitesAreRefused(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let site = try await WebchatSite.create(api)
            let elsewhere = try await site.session(host: "https://evil.example")
            #expect(elsewhere.status == .forbidden)
            #expect(elsewhere.errorCode == "origin_not_allowed")
            #expect(try await site.session(host: nil).errorCode == "origin_not_allowed")
            let token = try await site.visitor()
            // A page elsewhere calling the routes itself (not through Parley's frame).
            let direct = try await site.call(.post, "/widget/v1/messages", visitor: token, origin: "https://evil.example", json: ["text": "hi"])
            #expect(direct.status == .forbidden)
            let foreignHost = try await site.call(.post, "/widget/v1/messages", visitor: token, host: "https://evil.example", json: ["text": "hi"])
            #expect(foreignHost.errorCode == "origin_not_allowed")
            #expect(try await site.call(.post, "/widget/v1/messages", visitor: token, origin: "https://parley.example.com", json: ["text": "hi"]).status == .created,
                    "Parley's own frame may call them")
            #expect(try await site.session(host: "https://parley.example.com").status == .ok, "Parley itself may show the widget")
            #expect(try await api.count("messages") == 1)

            let unknown = try await site.call(.post, "/widget/v1/session", json: ["channel": "wc_nope"])
            #expect(unknown.status == .notFound)
        }
    }

    @Test(arguments: TestBackend.all)
    func identityVerification(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let site = try await WebchatSite.create(api)
            let wrong = try await site.session(user: ["identifier": "user-42", "identifierHash": site.hash("user-43")])
            #expect(wrong.status == .forbidden)
            #expect(wrong.errorCode == "identity_mismatch")
            #expect(try await site.session(user: ["identifier": "user-42"]).errorCode == "identity_mismatch", "no hash, no identity")

            // Anonymous first, then signed in on the site: the conversation comes along.
            let anonymous = try await site.visitor()
            _ = try await site.write(anonymous, "Before signing in")
            let verified = try await site.session(token: anonymous, user: ["identifier": "user-42", "identifierHash": site.hash("user-42"),
                                                                          "name": "Kim Lee", "email": "kim@example.com"])
            #expect(verified.status == .ok, "\(verified.text)")
            let token = try #require(verified.json["token"] as? String)
            #expect((verified.json["visitor"] as? [String: Any])?["verified"] as? Bool == true)
            #expect((verified.json["messages"] as? [[String: Any]])?.count == 1)
            _ = try await site.write(token, "Signed in now")
            let contactId = try await site.contactId(of: token)
            #expect(try await api.send(.get, "/api/v1/contacts/\(contactId)").json["name"] as? String == "Kim Lee")

            // Another device: the same user, no token, sees the whole history.
            let phone = try await site.session(user: ["identifier": "user-42", "identifierHash": site.hash("user-42")])
            #expect((phone.json["messages"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == ["Before signing in", "Signed in now"])

            // An anonymous visitor's token cannot be turned into the user's: changing its claims breaks the signature.
            let other = try await site.visitor()
            let claims = Data(#"{"c":\#(site.channelId),"v":"user:user-42"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let forged = claims + "." + (other.split(separator: ".").last.map(String.init) ?? "")
            #expect(try await site.write(forged, "I am Kim").status == .unauthorized)
            #expect(try await site.call(.get, "/widget/v1/messages", visitor: forged).errorCode == "invalid_visitor_token")

            // A new identity secret signs verified visitors out.
            let rotated = try await api.send(.post, "/api/v1/channels/\(site.channelId)/webchat/identity-secret")
            #expect(rotated.status == .created)
            let secret = try #require(rotated.json["identitySecret"] as? String)
            #expect(try await site.write(token, "Still me?").status == .unauthorized)
            #expect(try await site.session(user: ["identifier": "user-42", "identifierHash": site.hash("user-42")]).errorCode == "identity_mismatch")
            #expect(try await site.session(user: ["identifier": "user-42", "identifierHash": site.hash("user-42", secret: secret)]).status == .ok)
        }
    }

    @Test(arguments: TestBackend.all)
    func badInputIsRefusedAndChangesNothing(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let site = try await WebchatSite.create(api)
            let token = try await site.visitor()
            #expect(try await site.write(token, "   ").errorField == "text")
            #expect(try await site.write(token, String(repeating: "x", count: 4097)).errorField == "text")
            #expect(try await site.write(token, "hi", extra: ["clientId": "no spaces"]).errorField == "clientId")
            #expect(try await site.write(token, "hi", extra: ["email": "not-an-email"]).errorField == "email")
            #expect(try await site.write(token, "hi", extra: ["name": String(repeating: "n", count: 101)]).errorField == "name")
            #expect(try await site.call(.post, "/widget/v1/messages", visitor: "garbage", json: ["text": "hi"]).status == .unauthorized)
            #expect(try await site.call(.post, "/widget/v1/messages", json: ["text": "hi"]).status == .unauthorized)
            #expect(try await site.call(.post, "/widget/v1/session", json: ["token": "x"]).status == .badRequest)
            #expect(try await api.count("messages") == 0)
            #expect(try await api.count("contacts") == 0)

            // Ten messages at once, then the visitor must slow down.
            let chatty = try await site.visitor()
            for index in 0..<10 { #expect(try await site.write(chatty, "message \(index)").status == .created) }
            let limited = try await site.write(chatty, "one too many")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] == "3")
            #expect(try await api.count("messages") == 10)
            api.clock.advance(by: 3)
            #expect(try await site.write(chatty, "after a pause").status == .created)
        }
    }

    @Test(arguments: TestBackend.all)
    func theLoaderAndTheFramePage(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let site = try await WebchatSite.create(api, settings: ["greeting": "</script><script>alert(1)</script>"])
            let loader = try await api.send(.get, "/widget.js", token: "")
            #expect(loader.status == .ok)
            #expect(loader.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(loader.text.contains("window.Parley"))
            let frame = try await api.send(.get, "/widget/frame?channel=\(site.key)", token: "")
            #expect(frame.status == .ok)
            let policy = try #require(frame.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("frame-ancestors https://shop.example 'self'"))
            #expect(frame.headers[HTTPField.Name("X-Frame-Options")!] == nil)
            #expect(!frame.text.contains("</script><script>alert"), "settings cannot close the config's script element")
            #expect(frame.text.contains(#"\u003c/script>"#))
            #expect(try await api.send(.get, "/widget/frame?channel=wc_unknown", token: "").status == .notFound)
            // The inbox's own pages still refuse to be framed.
            #expect(try await api.send(.get, "/inbox", token: "").headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
        }
    }
}
