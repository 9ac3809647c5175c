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
    /// Milliseconds since 1970, the unit every stored timestamp uses. A date made from whole
    /// milliseconds (a provider's timestamp) sits a hair below them in binary floating point, so a
    /// value within a microsecond of a whole millisecond is that millisecond; others round down.
    public var epochMilliseconds: Int64 {
        let exact = timeIntervalSince1970 * 1000
        let nearest = exact.rounded()
        return Int64(abs(exact - nearest) < 0.001 ? nearest : exact.rounded(.down))
    }

    public init(epochMilliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(epochMilliseconds) / 1000)
    }
}
