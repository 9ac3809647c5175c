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
        try await TestBackend.sqlite.withDatabase { database in
            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4)
            configuration.maxConnections = 2
            let services = Services(configuration: configuration, database: database, logger: .quiet)
            // Run as `parley serve` does: the test framework's live server drops the limit.
            let (ports, signal) = AsyncStream.makeStream(of: Int.self)
            let app = try buildApplication(services: services, runWorkers: false, onServerRunning: { signal.yield($0.localAddress?.port ?? 0) })
            let running = Task { try await app.runService(gracefulShutdownSignals: []) }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
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
            running.cancel()
            _ = await running.result
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

/// A loopback TCP client: connecting succeeds once the listen backlog takes it, before
/// the server accepts, which is what these tests need to see.
final class RawConnection {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// What arrives within `timeout`, or nil when nothing does. Polls without blocking: the
    /// server under test runs on the same few threads.
    func receive(within timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) == 1 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(descriptor, &buffer, buffer.count, 0)
                return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
            }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func close() { Glibc.close(descriptor) }
}
