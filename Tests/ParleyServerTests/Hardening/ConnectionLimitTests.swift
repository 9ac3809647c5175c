import Foundation
import Hummingbird
import ParleyChannels
import ParleyServer
import ParleyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Connections are held below the open-file limit: at the cap a client waits to be accepted
/// instead of the process running out of descriptors (which stops it; see `DescriptorLimit`).
@Suite("Hardening: connections held below the open-file limit")
struct ConnectionLimitTests {
    @Test func theBudgetKeepsRoomForEverythingElse() {
        #expect(DescriptorLimit.connectionBudget(limit: 256) == 128)
        #expect(DescriptorLimit.connectionBudget(limit: 1024) == 896)
        #expect(DescriptorLimit.connectionBudget(limit: 20000) == 17500)
        #expect(DescriptorLimit.connectionBudget(limit: 100) == 50, "connections get at least half")
    }

    @Test func aConfiguredLimitIsHeldToTheRoomTheDescriptorsLeave() {
        var configuration = ServerConfiguration()
        #expect(configuration.connectionLimit(descriptors: 1024) == 896)
        configuration.maxConnections = 100
        #expect(configuration.connectionLimit(descriptors: 1024) == 100)
        configuration.maxConnections = 5000
        #expect(configuration.connectionLimit(descriptors: 1024) == 896)
    }

    @Test func raisingTheLimitReachesTheHardLimit() {
        var limit = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let raised = DescriptorLimit.raise()
        #expect(raised == min(Int(clamping: limit.rlim_max), 1 << 20))
        #expect(DescriptorLimit.current() == raised)
    }

    @Test func anHTTPClientBeyondTheCapIsServedWhenAConnectionCloses() async throws {
        // Run as `parley serve` does: the test framework's live server drops the limit.
        try await ServedApplication.run(configure: { $0.maxConnections = 2 }) { port in
            let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
            let first = try RawConnection(port: port), second = try RawConnection(port: port)
            try first.send(request)
            #expect(await first.receive(within: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            try second.send(request)
            #expect(await second.receive(within: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            let third = try RawConnection(port: port)
            try third.send(request)
            #expect(await third.receive(within: .milliseconds(700)) == nil, "a third connection waits while two are open")
            first.close()
            #expect(await third.receive(within: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            second.close()
            third.close()
        }
    }

    @Test func anSMTPSenderBeyondTheCapIsGreetedWhenASessionEnds() async throws {
        let server = SMTPServer(host: "127.0.0.1", port: 0, maxSessions: 2, accepts: { _ in true }, deliver: { _, _, _ in })
        let (ports, signal) = AsyncStream.makeStream(of: Int.self)
        let listening = Task { try await server.run(onListening: { signal.yield($0) }) }
        defer { listening.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let first = try RawConnection(port: port), second = try RawConnection(port: port)
        #expect(await first.receive(within: .seconds(5))?.hasPrefix("220 ") == true)
        #expect(await second.receive(within: .seconds(5))?.hasPrefix("220 ") == true)
        let third = try RawConnection(port: port)
        #expect(await third.receive(within: .milliseconds(700)) == nil, "a third sender waits while two sessions are open")
        try first.send("QUIT\r\n")
        #expect(await first.receive(within: .seconds(5))?.hasPrefix("221") == true)
        #expect(await third.receive(within: .seconds(5))?.hasPrefix("220 ") == true)
        first.close()
        second.close()
        third.close()
    }
}
