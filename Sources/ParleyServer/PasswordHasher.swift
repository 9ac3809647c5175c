import HummingbirdBcrypt
import NIOPosix
import ParleyStore
import Synchronization

/// bcrypt on the blocking thread pool, so that hashing never stalls the event loops.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    private let decoy = DecoyHash()

    public init(cost: UInt8 = 12) {
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
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

private final class DecoyHash: Sendable {
    let value = Mutex<String?>(nil)
}
