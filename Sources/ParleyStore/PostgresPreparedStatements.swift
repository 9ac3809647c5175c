import PostgresNIO
import Synchronization

/// Which of a transaction's statements run as named prepared statements on their connection.
///
/// Sent as a fresh statement each time, PostgreSQL parses, analyses and plans every one of
/// them: 45% of the server's CPU during webhook ingest (`perf`, 32% in the planner alone). A
/// named statement is parsed once per connection, and after a few runs PostgreSQL keeps one
/// plan for it.
///
/// Reads qualify as well as writes: an agent's request is mostly lookups by key (its token,
/// its access, the composer's channel and identity), and planning them anew took 31% of
/// PostgreSQL's CPU while agents read composer states (`perf`). PostgreSQL plans a prepared
/// statement for its values for its first five runs and keeps one generic plan only when that
/// plan is estimated no dearer, so an inbox page still gets the plan its values need. A text
/// that matches with `LIKE` does not qualify: a search's plan depends on its pattern, which a
/// generic plan cannot see, and the estimate that would choose between them is a guess.
///
/// A text qualifies once it ran twice as a fresh statement without error, so a statement that
/// cannot be prepared (it names a table a migration has yet to create) never is; a text that
/// reads `*` does not, since its columns could change under a kept plan. Each text is prepared
/// separately for each combination of bound types it is run with (PostgreSQL fixes a prepared
/// statement's parameter types), and their number is bounded.
final class PostgresStatementRegistry: Sendable {
    static let shared = PostgresStatementRegistry()

    /// Texts (with their bound types) tracked at most; past it, new ones stay fresh statements.
    static let capacity = 1_024
    /// Clean runs as a fresh statement before a text is prepared.
    static let runsBeforePreparing = 2

    /// Clean fresh runs so far, by name; `never` for a text that does not qualify, so that the
    /// text is examined once rather than on each run.
    private let runs = Mutex<[String: Int]>([:])
    private static let never = -1

    /// Whether the statement named `name` (see ``name(sql:types:)``) runs prepared.
    func isPrepared(_ name: String) -> Bool {
        runs.withLock { $0[name] ?? 0 } >= Self.runsBeforePreparing
    }

    /// Notes a clean run as a fresh statement of `sql`, named `name`.
    func ranFresh(_ name: String, sql: String) {
        let known = runs.withLock { $0[name] }
        guard known != Self.never else { return }
        let qualifies = known != nil || Self.qualifies(sql)
        runs.withLock { runs in
            if let count = runs[name] {
                if count != Self.never { runs[name] = count + 1 }
            } else if runs.count < Self.capacity {
                runs[name] = qualifies ? 1 : Self.never
            }
        }
    }

    static func qualifies(_ sql: String) -> Bool {
        let start = sql.utf8.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }.count
        let verb = sql.utf8.dropFirst(start).prefix(6)
        let verbs = ["SELECT", "INSERT", "UPDATE", "DELETE"].map { Array($0.utf8) }
        guard verbs.contains(where: { $0.elementsEqual(verb) }), !sql.contains(" LIKE ") else { return false }
        // `count(*)` keeps its columns; any other `*` reads whatever columns the table has.
        return !sql.replacingOccurrences(of: "(*)", with: "").contains("*")
    }

    /// A name from the text and the bound types (64-bit FNV-1a), unique for practical purposes.
    static func name(sql: String, types: [UInt32]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        for byte in sql.utf8 { mix(byte) }
        for type in types {
            mix(0)
            for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8(truncatingIfNeeded: type >> UInt32(shift))) }
        }
        return "parley_\(String(hash, radix: 16))_\(sql.utf8.count)"
    }
}

/// One statement run through PostgresNIO's prepared statements, which take the name and text
/// as static properties: they come from a task-local value, set around the one call that reads
/// them (``PostgresSession``).
struct NamedPostgresStatement: PostgresPreparedStatement {
    typealias Row = PostgresRow

    struct Text: Sendable {
        var name: String
        var sql: String
    }

    @TaskLocal static var text = Text(name: "", sql: "")

    static var name: String { text.name }
    static var sql: String { text.sql }

    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
