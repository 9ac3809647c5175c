import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyCore
@testable import ParleyServer
import ParleyTestSupport
import Testing

@Suite("Realtime authentication and bad input")
struct RealtimeAuthTests {
    /// An upgrade request as a browser or a WebSocket library sends it.
    static func upgrade(_ api: APIHarness, _ uri: String, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers: HTTPFields = [.upgrade: "websocket", .connection: "Upgrade", .secWebSocketVersion: "13", .secWebSocketKey: "dGhlIHNhbXBsZSBub25jZQ=="]
        headers.append(contentsOf: extra)
        return try await api.client.execute(uri: uri, method: .get, headers: headers, body: nil) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    @Test(arguments: TestBackend.all)
    func upgradesAreCheckedBeforeAnythingHappens(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let anonymous = try await Self.upgrade(api, "/api/v1/events")
            #expect(anonymous.status == .unauthorized)
            let badAfter = try await Self.upgrade(api, "/api/v1/events?after=abc", headers: [.authorization: "Bearer \(api.ownerToken)"])
            #expect(badAfter.status == .badRequest)
            #expect(badAfter.errorField == "after")
            let negative = try await Self.upgrade(api, "/api/v1/events?after=-1", headers: [.authorization: "Bearer \(api.ownerToken)"])
            #expect(negative.status == .badRequest)
            let plain = try await api.send(.get, "/api/v1/events")
            #expect(plain.status == .upgradeRequired)
            #expect(plain.errorCode == "websocket_required")
            let forged = try await Self.upgrade(api, "/api/v1/events?ticket=pk_forged")
            #expect(forged.status == .unauthorized)
            #expect(forged.errorCode == "invalid_ticket")
        }
    }

    @Test(arguments: TestBackend.all)
    func aTicketWorksOnceAndNotAfterItExpires(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            #expect(try await api.send(.post, "/api/v1/events/ticket", token: "").status == .unauthorized)
            let issued = try await api.send(.post, "/api/v1/events/ticket")
            #expect(issued.status == .created)
            let ticket = try #require(issued.json["ticket"] as? String)
            #expect(try await Self.upgrade(api, "/api/v1/events?ticket=\(ticket)").status == .ok)
            let again = try await Self.upgrade(api, "/api/v1/events?ticket=\(ticket)")
            #expect(again.status == .unauthorized)

            let late = try #require(try await api.send(.post, "/api/v1/events/ticket").json["ticket"] as? String)
            api.clock.advance(by: 31)
            #expect(try await Self.upgrade(api, "/api/v1/events?ticket=\(late)").status == .unauthorized)
        }
    }

    /// A page on another site can make the browser open a WebSocket with Parley's cookie; the
    /// cookie opens the stream only from Parley's own origin.
    @Test(arguments: TestBackend.all)
    func theSessionCookieOpensTheStreamOnlyFromTheSameOrigin(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let session = try await BrowserSessionTests.signIn(api)
            let cookie: HTTPFields = [.cookie: "parley_session=\(session.cookie)"]
            var foreign = cookie
            foreign[.origin] = "https://evil.example"
            #expect(try await Self.upgrade(api, "/api/v1/events", headers: foreign).status == .forbidden)
            var own = cookie
            own[.origin] = "https://parley.example.com"
            #expect(try await Self.upgrade(api, "/api/v1/events", headers: own).status == .ok)
        }
    }

    @Test func aSlowClientsQueueEndsInsteadOfGrowing() async throws {
        let user = User(id: 1, workspaceId: 1, email: "a@example.com", name: "A", role: .agent, createdAt: Date(), disabled: false)
        let subscriber = EventSubscriber(id: 1, user: user, seesAll: true, capacity: 3)
        for index in 0..<10 { subscriber.offer(OutboundFrame(position: nil, text: "frame \(index)")) }
        #expect(subscriber.overflowed)
        var received: [String] = []
        for await frame in subscriber.frames { received.append(frame.text) }
        #expect(received == ["frame 0", "frame 1", "frame 2"])
    }
}
