import Foundation
import Hummingbird
import ParleyServer
import ParleyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The application run as `parley serve` runs it, on a loopback port: Hummingbird's live test
/// server drops a configured connection limit, so tests of the connection handling use this.
enum ServedApplication {
    static func run(configure: (inout ServerConfiguration) -> Void, _ body: (Int) async throws -> Void) async throws {
        try await TestBackend.sqlite.withDatabase { database in
            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4)
            configure(&configuration)
            let services = Services(configuration: configuration, database: database, logger: .quiet)
            let (ports, signal) = AsyncStream.makeStream(of: Int.self)
            let app = try buildApplication(services: services, runWorkers: false, onServerRunning: { signal.yield($0.localAddress?.port ?? 0) })
            let running = Task { try await app.runService(gracefulShutdownSignals: []) }
            defer { running.cancel() }
            var iterator = ports.makeAsyncIterator()
            try await body(try #require(await iterator.next()))
            running.cancel()
            _ = await running.result
        }
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

    /// What arrives within `timeout`, or nil when nothing does (or the server closes first).
    func receive(within timeout: Duration) async -> String? {
        await wait(within: timeout) { arrival in
            switch arrival {
            case .text(let text): .some(text)
            case .closed: .some(nil)
            }
        } ?? nil
    }

    /// Whether the server closes the connection within `timeout`; what it sends before is skipped.
    func closedByServer(within timeout: Duration) async -> Bool {
        await wait(within: timeout) { arrival in
            if case .closed = arrival { true } else { nil }
        } ?? false
    }

    private enum Arrival {
        case text(String)
        case closed
    }

    /// Reads what arrives until `answer` makes something of it or `timeout` passes (nil). Polls
    /// without blocking: the server under test runs on the same few threads.
    private func wait<Answer>(within timeout: Duration, _ answer: (Arrival) -> Answer?) async -> Answer? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) == 1 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(descriptor, &buffer, buffer.count, 0)
                let arrival = count > 0 ? Arrival.text(String(decoding: buffer[..<count], as: UTF8.self)) : .closed
                if let result = answer(arrival) { return result }
                continue
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func close() { Glibc.close(descriptor) }
}
