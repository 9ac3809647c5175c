import Foundation

/// The source of "now". Injected everywhere time matters so that tests can pin it.
public protocol ParleyClock: Sendable {
    func now() -> Date
}

/// The wall clock.
public struct SystemClock: ParleyClock {
    public init() {}
    public func now() -> Date { Date() }
}

extension Date {
    /// Milliseconds since 1970, the unit every stored timestamp uses.
    public var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(epochMilliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(epochMilliseconds) / 1000)
    }
}
