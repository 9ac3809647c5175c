import Foundation
import NIOCore
import SQLiteNIO
import VaporCSQLite

/// One SQLite connection owned by one thread of its own.
///
/// The thread is also a task executor: a transaction runs *on* it (see
/// ``SQLiteDatabaseBackend``), so each statement is a plain function call on the thread that
/// owns the connection instead of two thread hand-offs, and a whole transaction costs one hop
/// in and one hop out. Statements are prepared once and kept (``SQLiteStatementCache``).
///
/// Everything below `handle` is touched only on the worker's thread.
final class SQLiteWorker: @unchecked Sendable {
    private enum Job {
        case task(UnownedJob)
        case block(() -> Void)
    }

    let path: String
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queueHead = 0
    private var stopped = false
    /// Set by the thread as it ends: from then on nothing may wait for it (see `push`).
    private var exited = false
    private var threadId: pthread_t?

    private var handle: OpaquePointer?
    private var statements = SQLiteStatementCache()

    /// Opens `path` on a new thread; `pragmas` run once, in order, after it opened.
    init(path: String, name: String, pragmas: [String]) async throws {
        self.path = path
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            // The thread keeps its worker alive until `stop` ends it.
            let thread = Thread {
                self.threadId = pthread_self()
                // Named from the thread itself, Linux gives the name (15 bytes at most) to the
                // kernel too, where top -H, perf and gdb read it.
                Thread.current.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
                started.resume()
                self.loop()
            }
            // Transactions' own code runs here too, not only SQLite: give it a main thread's room.
            thread.stackSize = 8 << 20
            thread.start()
        }
        do {
            try await perform { try self.openConnection(pragmas: pragmas) }
        } catch {
            finish()
            throw error
        }
    }

    /// Whether the caller runs on this worker's thread (and may use the connection directly).
    var isCurrent: Bool {
        guard let threadId else { return false }
        return pthread_equal(threadId, pthread_self()) != 0
    }

    // MARK: The thread

    private func loop() {
        while true {
            condition.lock()
            while queueHead == queue.count && !stopped { condition.wait() }
            if queueHead == queue.count {
                exited = true
                condition.unlock()
                return
            }
            let job = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
            }
            condition.unlock()
            switch job {
            case .task(let job):
                // Only task executors enqueue tasks, so this is always available here.
                if #available(macOS 15.0, iOS 18.0, *) { job.runSynchronously(on: asUnownedTaskExecutor()) }
            case .block(let block):
                block()
            }
        }
    }

    /// Queues `job` for the thread; false when the thread has ended and would never run it.
    private func push(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !exited else { return false }
        queue.append(job)
        condition.signal()
        return true
    }

    /// Runs `body` on the worker's thread and returns its result (at once when already there).
    /// After `stop`, it fails at once.
    func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if isCurrent { return try body() }
        return try await withCheckedThrowingContinuation { continuation in
            let queued = push(.block { continuation.resume(with: Result { try body() }) })
            if !queued { continuation.resume(throwing: SQLiteStatementError.shutDown) }
        }
    }

    /// Queues `body` for the worker's thread without waiting for it; false after `stop`.
    func submit(_ body: @escaping @Sendable () -> Void) -> Bool {
        push(.block(body))
    }

    /// Runs `body` with the open connection, on the worker's thread.
    func withConnection(_ body: @escaping @Sendable (OpaquePointer) -> Void) async throws {
        try await perform {
            guard let handle = self.handle else { throw SQLiteStatementError.shutDown }
            body(handle)
        }
    }

    /// Closes the connection and ends the thread.
    func stop() async {
        _ = try? await perform { self.closeConnection() }
        finish()
    }

    private func finish() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    // MARK: The connection (worker thread only)

    private func openConnection(pragmas: [String]) throws {
        var opened: OpaquePointer?
        // NOMUTEX: the connection is used from this one thread only.
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let code = sqlite_nio_sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open \(path)"
            sqlite_nio_sqlite3_close(opened)
            throw SQLiteStatementError(code: code, message: message)
        }
        handle = opened
        do {
            for pragma in pragmas { try run(pragma, binds: []) { _ in } }
        } catch {
            closeConnection()
            throw error
        }
    }

    private func closeConnection() {
        statements.finalizeAll()
        sqlite_nio_sqlite3_close(handle)
        handle = nil
    }

    /// Closes the connection, which rolls back whatever it still had open, and opens a new one.
    func reopen(pragmas: [String]) async throws {
        try await perform {
            self.closeConnection()
            try self.openConnection(pragmas: pragmas)
        }
    }

    /// Bound text and blobs past this many bytes are released after their statement ran.
    static let retainedBindingLimit = 16 << 10

    /// How often SQLite recompiled the kept statement for `sql` (nil when none is kept).
    func recompilations(of sql: String) -> Int32? {
        statements.recompilations(of: sql)
    }

    /// Runs one statement on this thread's connection, handing each row to `onRow` as it is read.
    func run(_ sql: String, binds: [SQLiteData], _ onRow: (SQLiteResultRow) -> Void) throws {
        guard let handle else { throw SQLiteStatementError(code: SQLITE_MISUSE, message: "the connection is closed") }
        let entry = try statements.statement(for: sql, on: handle)
        let statement = entry.statement
        var boundBytes = 0
        defer {
            sqlite_nio_sqlite3_reset(statement)
            // The bound values stay for the next run on purpose: SQLite recompiles a statement
            // whose plan looked at a bound value (an equality's 0/1, a LIMIT) when that binding
            // changes, and clearing bindings counts as a change for all of them. Only large
            // values are let go, so a kept statement does not hold a message body for long.
            if boundBytes > Self.retainedBindingLimit { sqlite_nio_sqlite3_clear_bindings(statement) }
        }
        for (index, value) in binds.enumerated() {
            let code = bind(value, at: Int32(index + 1), to: statement)
            guard code == SQLITE_OK else { throw SQLiteStatementError(code: code, on: handle) }
            switch value {
            case .text(let text): boundBytes += text.utf8.count
            case .blob(let bytes): boundBytes += bytes.readableBytes
            default: break
            }
        }
        var columns: SQLiteColumnNames?
        while true {
            let code = sqlite_nio_sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw SQLiteStatementError(code: code, on: handle) }
            let names = columns ?? statements.columns(after: entry, sql: sql)
            columns = names
            var values: [SQLiteData] = []
            values.reserveCapacity(names.names.count)
            for index in 0..<Int32(names.names.count) { values.append(value(at: index, of: statement)) }
            onRow(SQLiteResultRow(columns: names, values: values))
        }
    }

    private func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .blob(let bytes):
            return bytes.withUnsafeReadableBytes {
                sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), sqliteTransient)
            }
        case .float(let number):
            return sqlite_nio_sqlite3_bind_double(statement, index, number)
        case .integer(let number):
            return sqlite_nio_sqlite3_bind_int64(statement, index, Int64(number))
        case .null:
            return sqlite_nio_sqlite3_bind_null(statement, index)
        case .text(let text):
            // By length, so a NUL inside the text is kept.
            return sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), sqliteTransient, UInt8(SQLITE_UTF8))
        }
    }

    private func value(at index: Int32, of statement: OpaquePointer) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT:
            return .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            // By length, not up to the first NUL.
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite_nio_sqlite3_column_blob(statement, index) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default:
            return .null
        }
    }
}

@available(macOS 15.0, iOS 18.0, *)
extension SQLiteWorker: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        // A task that prefers this executor can resume after the database shut down (a late
        // background task, a request finishing at shutdown). Its thread is gone, so the task
        // goes on on the global executor, where its next statement fails instead of waiting.
        if !push(.task(unowned)) { globalConcurrentExecutor.enqueue(ExecutorJob(unowned)) }
    }
}

/// SQLite copies the bound value before the bind call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// An error SQLite reported, with its extended result code.
public struct SQLiteStatementError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(code: Int32, on handle: OpaquePointer) {
        self.init(code: sqlite_nio_sqlite3_extended_errcode(handle), message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
    }

    /// The database was shut down before the statement could run.
    static let shutDown = SQLiteStatementError(code: SQLITE_MISUSE, message: "the database is shut down")

    /// SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY.
    var isUniqueViolation: Bool { code == 2067 || code == 1555 }

    public var description: String { "SQLite error \(code): \(message)" }
}
