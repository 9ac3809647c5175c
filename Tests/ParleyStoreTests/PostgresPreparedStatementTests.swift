import Foundation
@testable import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// PostgreSQL runs repeated statements prepared, in write transactions and reads: once per
/// combination of bound types, never a statement reading `*` or matching with `LIKE`, and with
/// the same results.
@Suite("PostgreSQL prepared statements")
struct PostgresPreparedStatementTests {
    /// The statements prepared on the transaction's connection whose text starts with `prefix`,
    /// with their parameter types.
    static func prepared(on db: any SQLDatabase, startingWith prefix: String) async throws -> [String] {
        try await db.raw("""
            SELECT parameter_types::text AS types FROM pg_prepared_statements WHERE NOT from_sql AND starts_with(statement, \(bind: prefix))
            ORDER BY types
            """).all().map { try $0.decode(column: "types", as: String.self) }
    }

    @Test(.enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
    func repeatedStatementsArePreparedForEachCombinationOfBoundTypes() async throws {
        try await TestBackend.postgres.withDatabase { database in
            // A table of its own: the registry of statements is shared by the whole process.
            let table = "prepared_\(UUID().uuidString.prefix(8).lowercased())"
            try await database.transaction { db in
                try await db.raw("CREATE TABLE \(unsafeRaw: table) (id BIGINT PRIMARY KEY, v BIGINT, s TEXT)").run()
                try await db.raw("INSERT INTO \(unsafeRaw: table) (id) VALUES (1), (2), (3)").run()
            }
            let update = "UPDATE \(table) SET "
            let types = try await database.transaction { db in
                for round in 1...3 {
                    for id in 1...3 {
                        // Row 2 gets NULL; row 3 text where rows 1 and 2 get a number: the same
                        // text with another bound type.
                        let value: Int64? = id == 2 ? nil : Int64(round * 10 + id)
                        try await db.raw("UPDATE \(unsafeRaw: table) SET v = \(bind: value) WHERE id = \(bind: Int64(id))").run()
                        if id == 3 {
                            try await db.raw("UPDATE \(unsafeRaw: table) SET s = \(bind: "r\(round)")::text WHERE id = \(bind: Int64(id))").run()
                        } else {
                            try await db.raw("UPDATE \(unsafeRaw: table) SET s = \(bind: Int64(round))::text WHERE id = \(bind: Int64(id))").run()
                        }
                    }
                    _ = try await db.raw("SELECT * FROM \(unsafeRaw: table) WHERE id = \(bind: Int64(1))").all()
                }
                return try await Self.prepared(on: db, startingWith: update)
            }
            // Each prepared after two fresh runs: the first update once with a number bound and
            // once with NULL (PostgreSQL infers its type), the second once per type bound to `s`.
            #expect(types == ["{bigint,bigint}", "{bigint,bigint}", "{bigint,bigint}", "{text,bigint}"])
            let rows = try await database.read { db in
                try await db.raw("SELECT id, v, s FROM \(unsafeRaw: table) ORDER BY id").all()
                    .map { "\(try $0.decode(column: "id", as: Int64.self)) \(try $0.decode(column: "v", as: Int64?.self).map(String.init) ?? "-") \(try $0.decode(column: "s", as: String.self))" }
            }
            #expect(rows == ["1 31 3", "2 - 3", "3 33 r3"])
            // A statement that fails once prepared fails its transaction only: the connection goes on.
            var outcomes: [Bool] = []
            for id: Int64 in [10, 11, 10, 12, 11, 13] {
                do {
                    try await database.transaction { db in try await db.raw("INSERT INTO \(unsafeRaw: table) (id) VALUES (\(bind: id))").run() }
                    outcomes.append(true)
                } catch {
                    #expect(database.isUniqueViolation(error), "\(error)")
                    outcomes.append(false)
                }
            }
            #expect(outcomes == [true, true, false, true, false, true])
            let starred = try await database.transaction { db in try await Self.prepared(on: db, startingWith: "SELECT * FROM \(table)") }
            #expect(starred.isEmpty)
        }
    }

    @Test(.enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
    func repeatedReadsArePreparedButNotPatternMatches() async throws {
        try await TestBackend.postgres.withDatabase { database in
            let table = "prepared_\(UUID().uuidString.prefix(8).lowercased())"
            try await database.transaction { db in
                try await db.raw("CREATE TABLE \(unsafeRaw: table) (id BIGINT PRIMARY KEY, s TEXT)").run()
                try await db.raw("INSERT INTO \(unsafeRaw: table) (id, s) VALUES (1, 'ana'), (2, 'bruno'), (3, 'ana maria')").run()
            }
            // One read holds one connection, where its statements are prepared.
            let (found, matched, lookups, patterns) = try await database.read { db in
                var found: [String] = []
                var matched: [Int] = []
                for id: Int64 in [1, 2, 3, 1] {
                    found += try await db.raw("SELECT s FROM \(unsafeRaw: table) WHERE id = \(bind: id)").all()
                        .map { try $0.decode(column: "s", as: String.self) }
                    matched.append(try await db.raw("SELECT id FROM \(unsafeRaw: table) WHERE s LIKE \(bind: "%an%")").all().count)
                }
                return (found, matched, try await Self.prepared(on: db, startingWith: "SELECT s FROM \(table)"),
                        try await Self.prepared(on: db, startingWith: "SELECT id FROM \(table)"))
            }
            #expect(found == ["ana", "bruno", "ana maria", "ana"])
            #expect(matched == [2, 2, 2, 2])
            // The lookup by key, prepared after its second run; the pattern match never.
            #expect(lookups == ["{bigint}"])
            #expect(patterns.isEmpty)
        }
    }
}
