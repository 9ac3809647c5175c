import Hummingbird
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import ParleyStore
import Synchronization

/// bcrypt on a thread pool of its own, so that a flood of logins can neither stall the event
/// loops nor starve the blocking pool the database (SQLite) runs on. At most `admitted` hashes
/// run or wait at once; beyond that a login is refused with 429 at once instead of queueing
/// without bound.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    private let decoy = DecoyHash()
    let gate: HashingGate

    /// Refused because as many hashes as allowed are already running or waiting.
    public struct Busy: HTTPResponseError {
        public var status: HTTPResponse.Status { .tooManyRequests }
        public func response(from request: Request, context: some RequestContext) throws -> Response {
            Response(status: status, headers: [.retryAfter: "1"])
        }
    }

    /// Half the cores (at least one): the other half stay for the database and the event loops.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount / 2))
        pool.start()
        return pool
    }()

    public init(cost: UInt8 = 12, admitted: Int = 64) {
        self.cost = cost
        self.gate = HashingGate(limit: admitted)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await run { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await run { Bcrypt.verify(password, hash: hash) }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        guard gate.enter() else { throw Busy() }
        defer { gate.leave() }
        return try await Self.pool.runIfActive(work)
    }

    /// Checks a password against a hash of the same cost that matches nothing: called when the
    /// email is unknown, so that such a login takes as long as one with a wrong password.
    public func verifyDecoy(_ password: String) async throws {
        let hash: String
        if let cached = decoy.value.withLock({ $0 }) {
            hash = cached
        } else {
            hash = try await self.hash(TokenRepository.generate())
            decoy.value.withLock { $0 = hash }
        }
        _ = try await verify(password, hash: hash)
    }
}

/// Counts the hashes running or waiting, refusing entry past the limit.
final class HashingGate: Sendable {
    let limit: Int
    private let inside = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    func enter() -> Bool {
        inside.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() {
        inside.withLock { $0 -= 1 }
    }
}

private final class DecoyHash: Sendable {
    let value = Mutex<String?>(nil)
}
