import Foundation
import Synchronization

/// Tells listeners in this process that a write transaction committed, so the event stream can
/// look for new events at once instead of polling. Signals coalesce: a listener that is busy
/// sees one pending wake-up however many commits happened meanwhile.
public final class CommitSignal: Sendable {
    private let listeners = Mutex<[UInt64: AsyncStream<Void>.Continuation]>([:])
    private let nextKey = Mutex<UInt64>(0)

    public init() {}

    /// A stream of wake-ups that ends when the listener stops iterating.
    public func subscribe() -> AsyncStream<Void> {
        let key = nextKey.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        continuation.onTermination = { [weak self] _ in
            _ = self?.listeners.withLock { $0.removeValue(forKey: key) }
        }
        listeners.withLock { $0[key] = continuation }
        return stream
    }

    public func signal() {
        listeners.withLock { listeners in
            for continuation in listeners.values { continuation.yield() }
        }
    }
}
