import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A closed-loop HTTP load: `concurrency` clients each send requests back to back until
/// `total` have been sent; every latency is recorded.
struct HTTPLoad {
    let client: HTTPClient
    /// The client's event-loop thread id, whose CPU time is the load generator's own.
    let generatorThread: String?

    struct Request: Sendable {
        var method: HTTPMethod
        var url: String
        var headers: [(String, String)]
        var body: [UInt8]?
    }

    /// With `rate`, requests are paced to that many per second (an open load at a set rate);
    /// without, each client sends as fast as answers come back.
    func run(_ name: String, scale: Int, concurrency: Int, total: Int, expect: Int = 200, rate: Double? = nil,
             request: @escaping @Sendable (Int) -> Request) async throws -> (Measurement, errors: Int) {
        let counter = Counter()
        let processCPU = cpuSeconds()
        let generatorCPU = generatorThread.map { cpuSeconds(thread: $0) }
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var samples: [Double] = []
                    var errors = 0
                    while let index = counter.next(below: total) {
                        if let rate {
                            let due = start + .milliseconds(Int64(Double(index) / rate * 1000))
                            if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
                        }
                        let spec = request(index)
                        var http = HTTPClientRequest(url: spec.url)
                        http.method = spec.method
                        for (name, value) in spec.headers { http.headers.add(name: name, value: value) }
                        if let body = spec.body { http.body = .bytes(ByteBuffer(bytes: body)) }
                        let began = ContinuousClock.now
                        do {
                            let response = try await client.execute(http, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            if Int(response.status.code) != expect { errors += 1 }
                        } catch {
                            errors += 1
                        }
                        samples.append((ContinuousClock.now - began).milliseconds)
                    }
                    return (samples, errors)
                }
            }
            return try await group.reduce(into: ([Double](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        }
        let elapsed = (ContinuousClock.now - start).milliseconds
        let samples = results.0
        let processUsed = cpuSeconds() - processCPU
        let generatorUsed = generatorThread.map { cpuSeconds(thread: $0) - (generatorCPU ?? 0) }
        return (Measurement(name: name, scale: scale, count: samples.count, throughputPerSecond: Double(samples.count) / max(elapsed, 0.001) * 1000,
                            p50ms: Measurement.percentile(samples, 0.50), p95ms: Measurement.percentile(samples, 0.95),
                            p99ms: Measurement.percentile(samples, 0.99),
                            generatorCPUShare: generatorUsed.flatMap { processUsed > 0 ? $0 / processUsed : nil },
                            cpuMicrosPerOp: samples.isEmpty ? nil : processUsed / Double(samples.count) * 1e6), results.1)
    }
}

/// Hands out request indexes to the concurrent clients.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func next(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
