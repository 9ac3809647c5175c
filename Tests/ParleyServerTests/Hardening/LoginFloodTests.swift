import Foundation
import Hummingbird
import NIOPosix
@testable import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Login floods: throttled per email and per client in the database (every instance sees the
/// same counts), the owner still signs in from a client they used before, and password hashing
/// is bounded instead of queueing without end.
@Suite("Login flood")
struct LoginFloodTests {
    static let owner = APIHarness.ownerEmail
    static let password = APIHarness.ownerPassword

    func attempt(_ auth: AuthController, email: String = owner, password: String, client: String) async -> Int {
        do {
            _ = try await auth.signIn(email: email, password: password, name: "test", client: client)
            return 200
        } catch let error as APIError {
            return Int(error.status.code)
        } catch {
            return 500
        }
    }

    @Test(arguments: TestBackend.all)
    func aFloodOnAnEmailDoesNotLockOutItsOwnerOnAKnownClient(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let auth = AuthController(services: api.services)
            #expect(await attempt(auth, password: Self.password, client: "203.0.113.7") == 200)
            // An attacker from many addresses guesses the owner's password.
            for index in 0..<12 {
                _ = await attempt(auth, password: "guess-\(index)", client: "198.51.100.\(index)")
            }
            // A stranger (a new client) is slowed down, even with the right password …
            #expect(await attempt(auth, password: Self.password, client: "192.0.2.99") == 429)
            // … the owner on the client they signed in from is not.
            #expect(await attempt(auth, password: Self.password, client: "203.0.113.7") == 200)
        }
    }

    @Test(arguments: TestBackend.all)
    func oneClientGuessingManyEmailsIsThrottled(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let auth = AuthController(services: api.services)
            for index in 0..<AuthController.clientPolicy.freeAttempts {
                _ = await attempt(auth, email: "nobody\(index)@example.com", password: "x", client: "198.51.100.1")
            }
            #expect(await attempt(auth, email: "someone-else@example.com", password: "x", client: "198.51.100.1") == 429)
            // Another client is not affected.
            #expect(await attempt(auth, password: Self.password, client: "198.51.100.2") == 200)
        }
    }

    @Test(arguments: TestBackend.all)
    func theThrottleIsSharedByInstances(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let first = AuthController(services: api.services)
            // A second instance: its own Services over the same database.
            let second = AuthController(services: Services(configuration: ServerConfiguration(bcryptCost: 4), database: api.services.database,
                                                           clock: api.clock, logger: .quiet))
            for index in 0..<AuthController.emailPolicy.freeAttempts {
                _ = await attempt(first, password: "guess-\(index)", client: "198.51.100.\(index)")
            }
            #expect(await attempt(second, password: "another guess", client: "198.51.100.200") == 429)
            // Time heals: after the block, the email may be tried again.
            api.clock.advance(by: 3600)
            #expect(await attempt(second, password: Self.password, client: "198.51.100.200") == 200)
        }
    }

    @Test func hashingIsBoundedAndRefusesWhenFull() {
        let gate = HashingGate(limit: 2)
        #expect(gate.enter() && gate.enter())
        #expect(!gate.enter())
        gate.leave()
        #expect(gate.enter())
    }

    @Test func hashingDoesNotUseTheSharedBlockingPool() async throws {
        // SQLite's calls run on NIOThreadPool.singleton; bcrypt must not compete with them there.
        #expect(PasswordHasher.pool !== NIOThreadPool.singleton)
        let hasher = PasswordHasher(cost: 4, admitted: 1)
        let hash = try await hasher.hash("secret")
        #expect(try await hasher.verify("secret", hash: hash))
    }
}
