import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import Testing

/// A WebSocket client of the event stream for tests: collects every frame it receives, parsed.
final class StreamClient: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let waitingFor: String
        var description: String { "timed out waiting for \(waitingFor)" }
    }

    private struct State {
        var texts: [String] = []
        var read = 0
        var outbound: WebSocketOutboundWriter?
        var finished = false
        var closeCode: Int?
        var closeReason: String?
        var failure: String?
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Opens `path` (e.g. `/api/v1/events?after=3`) on a server at `port`; returns once connected
    /// (or throws the upgrade's failure).
    static func connect(port: Int, path: String, headers: HTTPFields = [:]) async throws -> StreamClient {
        let client = StreamClient()
        let (connected, signal) = AsyncStream.makeStream(of: Bool.self)
        let task = Task {
            do {
                let close = try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)\(path)", configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), logger: Logger(label: "test")
                ) { inbound, outbound, _ in
                    client.state.withLock { $0.outbound = outbound }
                    signal.yield(true)
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { client.state.withLock { $0.texts.append(text) } }
                    }
                }
                client.state.withLock {
                    $0.closeCode = close.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }
                    $0.closeReason = close?.reason
                }
            } catch {
                client.state.withLock { $0.failure = "\(error)" }
            }
            client.state.withLock { $0.finished = true }
            signal.yield(false)
        }
        client.task.withLock { $0 = task }
        // A server that never answers the upgrade fails the test instead of hanging the suite.
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(30))
            signal.yield(false)
        }
        defer { watchdog.cancel() }
        for await ok in connected {
            if ok { return client }
            break
        }
        task.cancel()
        throw Timeout(waitingFor: "connection (\(client.state.withLock { $0.failure ?? "no answer to the upgrade" }))")
    }

    var isFinished: Bool { state.withLock { $0.finished } }
    var closeCode: Int? { state.withLock { $0.closeCode } }
    var closeReason: String? { state.withLock { $0.closeReason } }
    var failure: String? { state.withLock { $0.failure } }

    /// The next frame received, parsed.
    func next(timeout: Duration = .seconds(10)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text: String? = state.withLock { state in
                guard state.read < state.texts.count else { return nil }
                state.read += 1
                return state.texts[state.read - 1]
            }
            if let text {
                return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? ["unparsed": text]
            }
            if isFinished { throw Timeout(waitingFor: "a frame (the connection closed)") }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw Timeout(waitingFor: "a frame")
    }

    /// Skips frames until one of `type` arrives.
    func next(_ type: String, timeout: Duration = .seconds(10)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        var skipped: [String] = []
        while true {
            let frame: [String: Any]
            do {
                frame = try await next(timeout: deadline - ContinuousClock.now)
            } catch let timeout as Timeout {
                let seen = state.withLock { $0.texts.count }
                throw Timeout(waitingFor: "a '\(type)' frame, \(timeout.waitingFor) (\(seen) frames received in all; skipped: \(skipped.suffix(5)))")
            }
            if frame["type"] as? String == type { return frame }
            skipped.append(frame["type"] as? String ?? "?")
        }
    }

    /// Skips frames until one of `type` satisfies `condition`.
    func next(_ type: String, timeout: Duration = .seconds(10), where condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let frame = try await next(type, timeout: deadline - ContinuousClock.now)
            if condition(frame) { return frame }
        }
    }

    /// Every frame received so far that has not been read, parsed.
    func drain() -> [[String: Any]] {
        state.withLock { state in
            let rest = state.texts[state.read...]
            state.read = state.texts.count
            return rest.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }
    }

    func send(_ text: String) async throws {
        guard let outbound = state.withLock({ $0.outbound }) else { throw Timeout(waitingFor: "an open connection") }
        try await outbound.writeTextMessage(text)
    }

    /// Sends a close frame and waits (boundedly) for the connection to end. The client
    /// library's close waits for the server's close frame with no timeout of its own; under a
    /// loaded test run one such wait never ended and held the whole run, so past `timeout` the
    /// client is cancelled and the wait reported on standard error.
    func close(timeout: Duration = .seconds(15)) async {
        let outbound = state.withLock { $0.outbound }
        let client = task.withLock { $0 }
        let closing = Task {
            try? await outbound?.close(.normalClosure, reason: nil)
            await client?.value
        }
        let deadline = ContinuousClock.now + timeout
        while !isFinished, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        if !isFinished {
            FileHandle.standardError.write(Data("stream client: no close within \(timeout); cancelled\n".utf8))
            client?.cancel()
            closing.cancel()
        }
    }

    /// Waits until the server closes the connection.
    func waitUntilClosed(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isFinished {
            guard ContinuousClock.now < deadline else { throw Timeout(waitingFor: "the server to close") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    var eventId: Int64? { (self["id"] as? NSNumber)?.int64Value }
    var frameType: String? { self["type"] as? String }
    var data: [String: Any] { self["data"] as? [String: Any] ?? [:] }
}
