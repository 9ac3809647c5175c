import Foundation

/// Latency samples of one operation, summarised.
struct Measurement: Codable, Sendable {
    let name: String
    let scale: Int
    let count: Int
    let throughputPerSecond: Double
    let p50ms: Double
    let p95ms: Double
    let p99ms: Double

    /// Runs `body` `iterations` times, sequentially, after a short warm-up.
    static func run(_ name: String, scale: Int, iterations: Int, _ body: (Int) async throws -> Void) async throws -> Measurement {
        for warm in 0..<min(5, iterations) { try await body(warm) }
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<iterations {
            let began = clock.now
            try await body(index)
            samples.append((clock.now - began).milliseconds)
        }
        let total = (clock.now - start).milliseconds
        return Measurement(name: name, scale: scale, count: iterations, throughputPerSecond: Double(iterations) / max(total, 0.001) * 1000,
                           p50ms: percentile(samples, 0.50), p95ms: percentile(samples, 0.95), p99ms: percentile(samples, 0.99))
    }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// Resident memory of this process, from /proc (Linux).
func residentMemoryMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}

func printTable(_ results: [Measurement]) {
    let header = "operation".padding(toLength: 46, withPad: " ", startingAt: 0) + "contacts".leftPad(10) + "ops/s".leftPad(10)
        + "p50 ms".leftPad(9) + "p95 ms".leftPad(9) + "p99 ms".leftPad(9)
    print(header)
    print(String(repeating: "-", count: header.count))
    for r in results {
        print(r.name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(r.scale).leftPad(10)
              + String(format: "%.0f", r.throughputPerSecond).leftPad(10) + String(format: "%.2f", r.p50ms).leftPad(9)
              + String(format: "%.2f", r.p95ms).leftPad(9) + String(format: "%.2f", r.p99ms).leftPad(9))
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
