import Foundation
import ParleyCore
import SQLKit

/// What a run remembers between steps.
public struct WorkflowRunContext: Codable, Sendable, Equatable {
    public var steps: [String: WorkflowStepResult] = [:]
    /// Values of the trigger (an incoming webhook's JSON fields), as `trigger.<key>` variables.
    public var trigger: [String: String] = [:]
    /// The step now waiting (a timer or a question), if any.
    public var pending: String?
    /// How many times each question was asked.
    public var asked: [String: Int] = [:]
    /// The contact's reply that ended a question's wait.
    public var reply: String?
    /// Replies count only after this message (the question).
    public var afterMessageId: Int64?

    public init(trigger: [String: String] = [:]) {
        self.trigger = trigger
    }
}

public enum WorkflowRunStatus: String, Codable, Sendable {
    case running, waiting, completed, failed
}

public struct WorkflowRun: Sendable, Equatable {
    public let id: Int64
    public let workspaceId: Int64
    public let workflowId: Int64
    public let contactId: Int64?
    public let conversationId: Int64?
    public let eventId: Int64?
    public var status: WorkflowRunStatus
    public var currentStep: String?
    public var stepsTaken: Int
    public let depth: Int
    public var context: WorkflowRunContext
    public let createdAt: Date
    public var finishedAt: Date?
}

/// One line of a run's log.
public struct WorkflowRunStepLog: Sendable, Equatable, Codable {
    public let id: Int64
    public let stepId: String
    public let stepType: String
    public let outcome: String
    public let input: String?
    public let detail: String?
    public let createdAt: Date
}

/// A run to start.
public struct NewWorkflowRun: Sendable {
    public var workspaceId: Int64
    public var workflowId: Int64
    public var contactId: Int64
    public var conversationId: Int64?
    public var eventId: Int64?
    public var oncePerContact: Bool
    public var depth: Int
    public var trigger: [String: String]

    public init(workspaceId: Int64, workflowId: Int64, contactId: Int64, conversationId: Int64?, eventId: Int64?,
                oncePerContact: Bool, depth: Int = 0, trigger: [String: String] = [:]) {
        self.workspaceId = workspaceId
        self.workflowId = workflowId
        self.contactId = contactId
        self.conversationId = conversationId
        self.eventId = eventId
        self.oncePerContact = oncePerContact
        self.depth = depth
        self.trigger = trigger
    }
}

/// Runs: started by the engine (in the cursor's transaction) or by a request, claimed when due
/// with a lease (PostgreSQL `SKIP LOCKED`), saved after every step.
public struct WorkflowRunRepository: Sendable {
    public let database: any Database
    /// A claimed run is someone's for this long; a run whose engine died is taken up again after it.
    public static let lease: TimeInterval = 120

    public init(database: any Database) {
        self.database = database
    }

    static let columns = """
        id, workspace_id, workflow_id, contact_id, conversation_id, event_id, status, current_step, steps_taken, depth, context, created_at, finished_at
        """

    /// Inserts a run due now; nil when the event already started one or the workflow already
    /// ran for this once-per-contact contact.
    @discardableResult
    public static func insert(on db: any SQLDatabase, _ run: NewWorkflowRun, at now: Date) async throws -> Int64? {
        let context = try encode(WorkflowRunContext(trigger: run.trigger))
        return try await db.raw("""
            INSERT INTO workflow_runs (workspace_id, workflow_id, contact_id, conversation_id, event_id, once_contact_id, status, due_at,
                                       depth, context, created_at, updated_at)
            VALUES (\(bind: run.workspaceId), \(bind: run.workflowId), \(bind: run.contactId), \(bind: run.conversationId), \(bind: run.eventId),
                    \(bind: run.oncePerContact ? run.contactId : nil), 'running', \(bind: now.epochMilliseconds), \(bind: run.depth), \(bind: context),
                    \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
            ON CONFLICT DO NOTHING
            RETURNING id
            """).first()?.decode(column: "id", as: Int64.self)
    }

    /// Starts a run outside the event stream (manual runs, incoming webhooks).
    public func start(_ run: NewWorkflowRun, at now: Date) async throws -> Int64? {
        try await database.transaction { db in try await Self.insert(on: db, run, at: now) }
    }

    /// Hands an inbound message to this workflow's runs waiting for the contact's reply; the
    /// run becomes due at once. Messages older than the question are not replies to it.
    public static func deliverReply(on db: any SQLDatabase, workflowId: Int64, contactId: Int64, messageId: Int64, text: String, at now: Date) async throws {
        let rows = try await db.raw("""
            SELECT id, context FROM workflow_runs
            WHERE workflow_id = \(bind: workflowId) AND contact_id = \(bind: contactId) AND status = 'waiting' AND wait_kind = 'reply'
            """).all()
        for row in rows {
            var context = try decodeContext(try row.decode(column: "context", as: String.self))
            guard messageId > (context.afterMessageId ?? 0), context.reply == nil else { continue }
            context.reply = text
            try await db.raw("""
                UPDATE workflow_runs SET context = \(bind: try encode(context)), due_at = \(bind: now.epochMilliseconds), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: try row.decode(column: "id", as: Int64.self))
                """).run()
        }
    }

    /// Claims due runs for this engine.
    public func claim(limit: Int, now: Date) async throws -> [WorkflowRun] {
        let nowMs = now.epochMilliseconds
        let due = try await database.read { db in
            try await db.raw("SELECT id FROM workflow_runs WHERE due_at <= \(bind: nowMs) LIMIT 1").first() != nil
        }
        guard due else { return [] }
        let skipLocked = database.facts.forUpdateSkipLocked
        return try await database.transaction { db in
            let ids = try await db.raw("""
                SELECT id FROM workflow_runs
                WHERE due_at <= \(bind: nowMs) AND (locked_until IS NULL OR locked_until <= \(bind: nowMs))
                ORDER BY due_at, id LIMIT \(bind: limit) \(unsafeRaw: skipLocked)
                """).all().map { try $0.decode(column: "id", as: Int64.self) }
            guard !ids.isEmpty else { return [] }
            let list = SQLList(ids.map { SQLBind($0) })
            try await db.raw("""
                UPDATE workflow_runs SET locked_until = \(bind: nowMs + Int64(Self.lease * 1000)) WHERE id IN (\(list))
                """).run()
            return try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM workflow_runs WHERE id IN (\(list)) ORDER BY due_at, id")
                .all().map(Self.decode)
        }
    }

    /// Records where a run stands after a step. `dueAt` nil leaves a finished run; a waiting
    /// run gives up its lease so any engine can take it up when it is due.
    public func save(_ run: WorkflowRun, waitKind: String?, dueAt: Date?, at now: Date) async throws {
        let finished = run.status == .completed || run.status == .failed
        let context = try Self.encode(run.context)
        try await database.transaction { db in
            try await db.raw("""
                UPDATE workflow_runs SET status = \(bind: run.status.rawValue), current_step = \(bind: run.currentStep), steps_taken = \(bind: run.stepsTaken),
                    context = \(bind: context), wait_kind = \(bind: waitKind), due_at = \(bind: dueAt?.epochMilliseconds),
                    locked_until = \(unsafeRaw: run.status == .running ? "locked_until" : "NULL"), updated_at = \(bind: now.epochMilliseconds),
                    finished_at = \(bind: finished ? now.epochMilliseconds : nil)
                WHERE id = \(bind: run.id)
                """).run()
        }
    }

    /// Appends a line to a run's log; `type` nil is the engine's own line (an internal error).
    public func log(runId: Int64, stepId: String, type: WorkflowStepType?, outcome: String, input: String?, detail: String?, at now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                INSERT INTO workflow_run_steps (run_id, step_id, step_type, outcome, input, detail, created_at)
                VALUES (\(bind: runId), \(bind: stepId), \(bind: type?.rawValue ?? "engine"), \(bind: outcome), \(bind: input.map { String($0.prefix(2000)) }),
                        \(bind: detail.map { String($0.prefix(2000)) }), \(bind: now.epochMilliseconds))
                """).run()
        }
    }

    /// A workflow's runs, newest first.
    public func list(workflowId: Int64, workspaceId: Int64, beforeId: Int64?, limit: Int) async throws -> [WorkflowRun] {
        try await database.read { db in
            try await db.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM workflow_runs
                WHERE workflow_id = \(bind: workflowId) AND workspace_id = \(bind: workspaceId) AND id < \(bind: beforeId ?? Int64.max)
                ORDER BY id DESC LIMIT \(bind: limit)
                """).all().map(Self.decode)
        }
    }

    /// The logs of some runs, oldest line first.
    public func logs(runIds: [Int64]) async throws -> [Int64: [WorkflowRunStepLog]] {
        guard !runIds.isEmpty else { return [:] }
        return try await database.read { db in
            var logs: [Int64: [WorkflowRunStepLog]] = [:]
            for row in try await db.raw("""
                SELECT id, run_id, step_id, step_type, outcome, input, detail, created_at FROM workflow_run_steps
                WHERE run_id IN (\(SQLList(runIds.map { SQLBind($0) }))) ORDER BY id
                """).all() {
                logs[try row.decode(column: "run_id", as: Int64.self), default: []].append(WorkflowRunStepLog(
                    id: try row.decode(column: "id", as: Int64.self), stepId: try row.decode(column: "step_id", as: String.self),
                    stepType: try row.decode(column: "step_type", as: String.self), outcome: try row.decode(column: "outcome", as: String.self),
                    input: try row.decode(column: "input", as: String?.self), detail: try row.decode(column: "detail", as: String?.self),
                    createdAt: try row.decodeDate(column: "created_at")))
            }
            return logs
        }
    }

    /// The next round-robin position of a step (1, 2, 3, …), shared by every engine.
    public func rotate(workflowId: Int64, stepId: String) async throws -> Int64 {
        try await database.transaction { db in
            try await db.raw("""
                INSERT INTO workflow_rotations (workflow_id, step_id, position) VALUES (\(bind: workflowId), \(bind: stepId), 1)
                ON CONFLICT (workflow_id, step_id) DO UPDATE SET position = workflow_rotations.position + 1
                RETURNING position
                """).first().required("rotation").decode(column: "position", as: Int64.self)
        }
    }

    static func encode(_ context: WorkflowRunContext) throws -> String {
        String(decoding: try JSONEncoder.store.encode(context), as: UTF8.self)
    }

    static func decodeContext(_ json: String) throws -> WorkflowRunContext {
        try JSONDecoder.store.decode(WorkflowRunContext.self, from: Data(json.utf8))
    }

    static func decode(_ row: any SQLRow) throws -> WorkflowRun {
        WorkflowRun(
            id: try row.decode(column: "id", as: Int64.self),
            workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
            workflowId: try row.decode(column: "workflow_id", as: Int64.self),
            contactId: try row.decode(column: "contact_id", as: Int64?.self),
            conversationId: try row.decode(column: "conversation_id", as: Int64?.self),
            eventId: try row.decode(column: "event_id", as: Int64?.self),
            status: try row.decodeEnum(column: "status", as: WorkflowRunStatus.self),
            currentStep: try row.decode(column: "current_step", as: String?.self),
            stepsTaken: try row.decode(column: "steps_taken", as: Int.self),
            depth: try row.decode(column: "depth", as: Int.self),
            context: try decodeContext(try row.decode(column: "context", as: String.self)),
            createdAt: try row.decodeDate(column: "created_at"),
            finishedAt: try row.decodeOptionalDate(column: "finished_at")
        )
    }
}
