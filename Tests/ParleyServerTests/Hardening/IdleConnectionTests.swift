import Foundation
import ParleyServer
import ParleyTestSupport
import Testing

/// Connections that ask nothing do not keep their slot (see `IdleConnectionChannel`): the
/// server accepts only so many at once, and one that a vanished client left open would
/// otherwise hold its place for good.
@Suite("Hardening: idle connections are closed")
struct IdleConnectionTests {
    static let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"

    @Test func aConnectionThatSendsNothingIsClosed() async throws {
        try await ServedApplication.run(configure: { $0.idleTimeout = .seconds(1) }) { port in
            let silent = try RawConnection(port: port)
            defer { silent.close() }
            #expect(await !silent.closedByServer(within: .milliseconds(500)), "not before the timeout")
            #expect(await silent.closedByServer(within: .seconds(5)))
        }
    }

    @Test func aRequestHeadSentByTheByteIsCutOffAtTheTimeout() async throws {
        try await ServedApplication.run(configure: { $0.idleTimeout = .seconds(1) }) { port in
            let slow = try RawConnection(port: port)
            defer { slow.close() }
            try slow.send("GET /healthz HTTP/1.1\r\n")
            var closed = false
            // A header line every 200 ms for 4 s: each arrives, the head never completes.
            for index in 0..<20 where !closed {
                try? slow.send("X-Line-\(index): x\r\n")
                closed = await slow.closedByServer(within: .milliseconds(200))
            }
            #expect(closed)
        }
    }

    @Test func aKeptAliveConnectionIsClosedAfterItsLastResponse() async throws {
        try await ServedApplication.run(configure: { $0.idleTimeout = .seconds(1) }) { port in
            let client = try RawConnection(port: port)
            defer { client.close() }
            try client.send(Self.request)
            #expect(await client.receive(within: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            // A second request within the timeout is served on the same connection.
            try await Task.sleep(for: .milliseconds(500))
            try client.send(Self.request)
            #expect(await client.receive(within: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
            #expect(await client.closedByServer(within: .seconds(5)))
        }
    }

    @Test func aConnectionAskingInTimeIsServed() async throws {
        try await ServedApplication.run(configure: { $0.idleTimeout = .seconds(2) }) { port in
            let client = try RawConnection(port: port)
            defer { client.close() }
            try await Task.sleep(for: .seconds(1))
            try client.send(Self.request)
            #expect(await client.receive(within: .seconds(5))?.hasPrefix("HTTP/1.1 200") == true)
        }
    }

    @Test func anEventStreamOutlivesTheIdleTimeout() async throws {
        try await LiveHarness.run(.sqlite, configure: { $0.idleTimeout = .seconds(1) }) { harness in
            let stream = try await harness.stream()
            _ = try await stream.next("ready", timeout: .seconds(30))
            try await Task.sleep(for: .milliseconds(2500))
            try await stream.send(#"{"type":"ping"}"#)
            _ = try await stream.next("pong", timeout: .seconds(5))
            await stream.close()
        }
    }
}
