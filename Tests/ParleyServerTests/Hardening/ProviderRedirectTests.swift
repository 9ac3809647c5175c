import Foundation
import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import ParleyTestSupport
import ParleyChannels
import Synchronization
import Testing

/// Outbound calls are checked against ``NetworkTargetPolicy`` before they are made; a redirect
/// followed by the HTTP client itself would go to an address nobody checked.
@Suite("Hardening: provider calls follow no redirect")
struct ProviderRedirectTests {
    @Test func aRedirectIsAnsweredNotFollowed() async throws {
        let reached = Mutex(false)
        let hidden = Router()
        hidden.get("/secret") { _, _ -> String in
            reached.withLock { $0 = true }
            return "internal"
        }
        try await Application(router: hidden, logger: .quiet).test(.live) { hiddenClient in
            let hiddenPort = try #require(hiddenClient.port)
            let redirecting = Router()
            redirecting.get("/api") { _, _ in
                Response(status: .found, headers: [.location: "http://127.0.0.1:\(hiddenPort)/secret"])
            }
            try await Application(router: redirecting, logger: .quiet).test(.live) { client in
                let port = try #require(client.port)
                let http = ProviderHTTP(client: ProviderHTTP.sharedClient, targets: .allowingPrivate)
                let response = try await http.send(.GET, "http://127.0.0.1:\(port)/api")
                #expect(response.status == 302)
                #expect(response.headers["location"] == "http://127.0.0.1:\(hiddenPort)/secret")
                #expect(!reached.withLock { $0 }, "the redirect's target was not called")
            }
        }
    }
}
