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
    /// This figure's throughput over the hello route's best in the same run (HTTP figures).
    var ratioToCeiling: Double? = nil
    /// The share of the process's CPU time the load generator's own thread used meanwhile.
    var generatorCPUShare: Double? = nil
    /// This process's CPU time per request, load generator included: less moved by how fast the
    /// machine happens to be than the throughput, so two builds compare better on it.
    var cpuMicrosPerOp: Double? = nil

    /// The median of several runs of one measurement, figure by figure.
    static func median(of runs: [Measurement]) -> Measurement {
        func mid(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func midOptional(_ values: [Double?]) -> Double? {
            let present = values.compactMap { $0 }
            return present.isEmpty ? nil : mid(present)
        }
        let first = runs[0]
        return Measurement(name: first.name, scale: first.scale, count: runs.map(\.count).sorted()[runs.count / 2],
                           throughputPerSecond: mid(runs.map(\.throughputPerSecond)), p50ms: mid(runs.map(\.p50ms)),
                           p95ms: mid(runs.map(\.p95ms)), p99ms: mid(runs.map(\.p99ms)),
                           ratioToCeiling: midOptional(runs.map(\.ratioToCeiling)), generatorCPUShare: midOptional(runs.map(\.generatorCPUShare)),
                           cpuMicrosPerOp: midOptional(runs.map(\.cpuMicrosPerOp)))
    }

    /// Runs a measurement `runs` times and keeps the median of each figure.
    static func median(runs: Int, _ body: (Int) async throws -> Measurement) async throws -> Measurement {
        var results: [Measurement] = []
        for run in 0..<max(1, runs) { results.append(try await body(run)) }
        return median(of: results)
    }

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

/// CPU seconds used so far by this process, or by one of its threads (Linux /proc).
func cpuSeconds(thread: String? = nil) -> Double {
    let path = thread.map { "/proc/self/task/\($0)/stat" } ?? "/proc/self/stat"
    guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func printTable(_ results: [Measurement]) {
    let header = "operation".padding(toLength: 46, withPad: " ", startingAt: 0) + "contacts".leftPad(10) + "ops/s".leftPad(10)
        + "p50 ms".leftPad(9) + "p95 ms".leftPad(9) + "p99 ms".leftPad(9) + "ceiling".leftPad(9) + "gen CPU".leftPad(9) + "CPU µs/op".leftPad(11)
    print(header)
    print(String(repeating: "-", count: header.count))
    for r in results {
        print(r.name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(r.scale).leftPad(10)
              + String(format: "%.0f", r.throughputPerSecond).leftPad(10) + String(format: "%.2f", r.p50ms).leftPad(9)
              + String(format: "%.2f", r.p95ms).leftPad(9) + String(format: "%.2f", r.p99ms).leftPad(9)
              + (r.ratioToCeiling.map { String(format: "%.1f%%", $0 * 100) } ?? "").leftPad(9)
              + (r.generatorCPUShare.map { String(format: "%.0f%%", $0 * 100) } ?? "").leftPad(9)
              + (r.cpuMicrosPerOp.map { String(format: "%.0f", $0) } ?? "").leftPad(11))
    }
}

/// Each figure measured at more than one scale: smallest against largest, so growth with the
/// data's size shows (flat is 1.0×).
func printGrowth(_ results: [Measurement]) {
    var order: [String] = []
    var byName: [String: [Measurement]] = [:]
    for result in results {
        if byName[result.name] == nil { order.append(result.name) }
        byName[result.name, default: []].append(result)
    }
    let grown = order.compactMap { name -> (String, Measurement, Measurement)? in
        guard let runs = byName[name]?.sorted(by: { $0.scale < $1.scale }), let small = runs.first, let large = runs.last,
              large.scale > small.scale else { return nil }
        return (name, small, large)
    }
    guard !grown.isEmpty else { return }
    let header = "growth".padding(toLength: 46, withPad: " ", startingAt: 0) + "from".leftPad(9) + "to".leftPad(9)
        + "ops/s ×".leftPad(9) + "p50 ×".leftPad(8) + "p99 ×".leftPad(8)
    print("\n" + header)
    print(String(repeating: "-", count: header.count))
    for (name, small, large) in grown {
        print(name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(small.scale).leftPad(9) + String(large.scale).leftPad(9)
              + String(format: "%.2f", large.throughputPerSecond / max(small.throughputPerSecond, 0.001)).leftPad(9)
              + String(format: "%.2f", large.p50ms / max(small.p50ms, 0.001)).leftPad(8)
              + String(format: "%.2f", large.p99ms / max(small.p99ms, 0.001)).leftPad(8))
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
