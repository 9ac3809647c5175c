import Crypto
import Foundation
import ParleyCore
import SQLKit

/// An attachment row with what only the server sees: where its bytes are and the key that
/// signs its links.
public struct StoredAttachment: Sendable, Equatable {
    public var attachment: Attachment
    public var workspaceId: Int64
    public var channelId: Int64?
    public var blobKey: String?
    public var accessKey: String
    public var uploadedBy: Int64?
    public var uploadedByVisitor: String?
}

/// A file that arrived inside a message: its bytes already kept under `blobKey`, or refused.
public struct ReceivedFile: Sendable, Equatable {
    public var kind: AttachmentKind
    public var blobKey: String?
    public var size: Int64?
    public var contentType: String?
    public var fileName: String
    /// Why it was not kept; nil when it was.
    public var failure: String?

    public init(kind: AttachmentKind, blobKey: String?, size: Int64?, contentType: String?, fileName: String, failure: String?) {
        self.kind = kind
        self.blobKey = blobKey
        self.size = size
        self.contentType = contentType
        self.fileName = fileName
        self.failure = failure
    }
}

/// Attachments: the files of messages, and the durable download jobs for files a webhook named.
public struct AttachmentRepository: Sendable {
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    /// A download to make.
    public struct Due: Sendable, Equatable {
        public let id: Int64
        public let workspaceId: Int64
        public let channelId: Int64
        public let messageId: Int64
        public let source: MediaSource
        public let attempts: Int64
    }

    /// How long a claimed download is held before another worker (or this one after a restart) takes it again.
    public static let lease: TimeInterval = 120
    public static let maxAttempts: Int64 = 6

    static let columns = """
        id, workspace_id, message_id, channel_id, kind, status, blob_key, size, content_type, file_name, access_key,
        uploaded_by, uploaded_by_visitor, failure
        """

    /// Records the files a webhook named, due for download now; inside the message's transaction.
    static func insertPending(on db: any SQLDatabase, workspaceId: Int64, messageId: Int64, channelId: Int64, media: [MediaSource], at now: Date) async throws {
        for source in media {
            let json = String(decoding: (try? JSONEncoder().encode(source)) ?? Data(), as: UTF8.self)
            try await db.raw("""
                INSERT INTO attachments (workspace_id, message_id, channel_id, kind, status, source, declared_type, file_name, access_key,
                                         due_at, created_at, updated_at)
                VALUES (\(bind: workspaceId), \(bind: messageId), \(bind: channelId), \(bind: source.kind.rawValue), 'pending', \(bind: json),
                        \(bind: source.contentType), \(bind: source.fileName ?? ""), \(bind: Self.newAccessKey()),
                        \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                """).run()
        }
    }

    /// Claims up to `limit` due downloads, holding each for ``lease``.
    public func claim(limit: Int, now: Date) async throws -> [Due] {
        let skipLocked = database.facts.forUpdateSkipLocked
        return try await database.transaction { db in
            let rows = try await db.raw("""
                SELECT id, workspace_id, channel_id, message_id, source, attempts FROM attachments
                WHERE due_at IS NOT NULL AND due_at <= \(bind: now.epochMilliseconds) AND status = 'pending'
                ORDER BY due_at, id LIMIT \(bind: limit) \(unsafeRaw: skipLocked)
                """).all()
            let due = try rows.compactMap { row -> Due? in
                let json = try row.decode(column: "source", as: String?.self) ?? ""
                guard let source = try? JSONDecoder().decode(MediaSource.self, from: Data(json.utf8)),
                      let channelId = try row.decode(column: "channel_id", as: Int64?.self),
                      let messageId = try row.decode(column: "message_id", as: Int64?.self) else { return nil }
                return Due(id: try row.decode(column: "id", as: Int64.self), workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
                           channelId: channelId, messageId: messageId, source: source, attempts: try row.decode(column: "attempts", as: Int64.self))
            }
            guard !rows.isEmpty else { return [] }
            let ids = try rows.map { try $0.decode(column: "id", as: Int64.self) }
            try await db.raw("""
                UPDATE attachments SET due_at = \(bind: now.addingTimeInterval(Self.lease).epochMilliseconds), attempts = attempts + 1
                WHERE id IN (\(SQLList(ids.map { SQLBind($0) })))
                """).run()
            // A row whose source cannot be read will never download: it fails now instead of looping.
            let unreadable = Set(ids).subtracting(due.map(\.id))
            if !unreadable.isEmpty {
                try await db.raw("""
                    UPDATE attachments SET status = 'failed', due_at = NULL, failure = 'the provider reference could not be read'
                    WHERE id IN (\(SQLList(unreadable.map { SQLBind($0) })))
                    """).run()
            }
            return due
        }
    }

    /// The bytes are in the blob store: the row says where, what they are, and the message's readers are told.
    public func stored(_ due: Due, blobKey: String, size: Int64, contentType: String, fileName: String, kind: AttachmentKind, at now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE attachments SET status = 'stored', due_at = NULL, blob_key = \(bind: blobKey), size = \(bind: size),
                    content_type = \(bind: contentType), file_name = \(bind: fileName), kind = \(bind: kind.rawValue),
                    failure = NULL, updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: due.id) AND status = 'pending'
                """).run()
            try await Self.touchMessage(on: db, workspaceId: due.workspaceId, messageId: due.messageId, at: now)
        }
    }

    /// The file will never come (refused or given up): the agent sees why.
    public func failed(_ due: Due, reason: String, at now: Date) async throws {
        try await database.transaction { db in
            try await db.raw("""
                UPDATE attachments SET status = 'failed', due_at = NULL, failure = \(bind: String(reason.prefix(300))), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: due.id) AND status = 'pending'
                """).run()
            try await Self.touchMessage(on: db, workspaceId: due.workspaceId, messageId: due.messageId, at: now)
        }
    }

    /// The provider could not answer: tried again with a growing pause, a few times at most.
    public func retryLater(_ due: Due, reason: String, at now: Date) async throws {
        let attempts = due.attempts + 1
        if attempts >= Self.maxAttempts {
            try await failed(due, reason: "gave up after \(attempts) attempts: \(reason)", at: now)
            return
        }
        let next = now.addingTimeInterval(10 * pow(3, Double(attempts - 1))).epochMilliseconds
        try await database.transaction { db in
            try await db.raw("""
                UPDATE attachments SET due_at = \(bind: next), failure = \(bind: String(reason.prefix(300))), updated_at = \(bind: now.epochMilliseconds)
                WHERE id = \(bind: due.id) AND status = 'pending'
                """).run()
        }
    }

    /// The bytes a workspace keeps, for its quota.
    public func usage(workspaceId: Int64) async throws -> Int64 {
        try await database.read { db in
            try await db.raw("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS total FROM attachments WHERE workspace_id = \(bind: workspaceId) AND status = 'stored'")
                .first()?.decode(column: "total", as: Int64.self) ?? 0
        }
    }

    /// A file uploaded by an agent (`userId`) or a website visitor (`visitor`), not yet sent.
    public func insertUpload(workspaceId: Int64, channelId: Int64?, userId: Int64?, visitor: String?, kind: AttachmentKind, blobKey: String,
                             size: Int64, contentType: String, fileName: String, at now: Date) async throws -> StoredAttachment {
        try await database.transaction { db in
            let row = try await db.raw("""
                INSERT INTO attachments (workspace_id, channel_id, kind, status, blob_key, size, content_type, file_name, access_key,
                                         uploaded_by, uploaded_by_visitor, created_at, updated_at)
                VALUES (\(bind: workspaceId), \(bind: channelId), \(bind: kind.rawValue), 'stored', \(bind: blobKey), \(bind: size), \(bind: contentType),
                        \(bind: fileName), \(bind: Self.newAccessKey()), \(bind: userId), \(bind: visitor),
                        \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
                RETURNING \(unsafeRaw: Self.columns)
                """).first()
            return try Self.decode(try row.required("attachment"))
        }
    }

    /// A file that came inside the message itself (an email's part): stored, or failed with why;
    /// inside the message's transaction.
    static func insertReceived(on db: any SQLDatabase, workspaceId: Int64, messageId: Int64, channelId: Int64, file: ReceivedFile, at now: Date) async throws {
        try await db.raw("""
            INSERT INTO attachments (workspace_id, message_id, channel_id, kind, status, blob_key, size, content_type, file_name, access_key,
                                     failure, created_at, updated_at)
            VALUES (\(bind: workspaceId), \(bind: messageId), \(bind: channelId), \(bind: file.kind.rawValue), \(bind: file.failure == nil ? "stored" : "failed"),
                    \(bind: file.blobKey), \(bind: file.size), \(bind: file.contentType), \(bind: file.fileName), \(bind: Self.newAccessKey()),
                    \(bind: file.failure), \(bind: now.epochMilliseconds), \(bind: now.epochMilliseconds))
            """).run()
    }

    /// One attachment of a workspace, or nil (another workspace's is not found).
    public func find(id: Int64, workspaceId: Int64) async throws -> StoredAttachment? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM attachments WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId)")
                .first().map(Self.decode)
        }
    }

    /// One attachment by id alone, for links whose signature is checked against its access key.
    public func find(id: Int64) async throws -> StoredAttachment? {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM attachments WHERE id = \(bind: id)").first().map(Self.decode)
        }
    }

    /// The attachments of these messages, by message.
    static func forMessages(on db: any SQLDatabase, ids: [Int64]) async throws -> [Int64: [StoredAttachment]] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await db.raw("""
            SELECT \(unsafeRaw: Self.columns) FROM attachments WHERE message_id IN (\(SQLList(ids.map { SQLBind($0) }))) ORDER BY id
            """).all()
        var result: [Int64: [StoredAttachment]] = [:]
        for row in rows {
            let stored = try decode(row)
            if let messageId = stored.attachment.messageId { result[messageId, default: []].append(stored) }
        }
        return result
    }

    /// Ties uploaded files to the message that sends them. Each must belong to the workspace,
    /// have been uploaded by `userId` (or the visitor) and not be sent yet.
    static func link(on db: any SQLDatabase, ids: [Int64], messageId: Int64, workspaceId: Int64, userId: Int64?, visitor: String?) async throws {
        for id in ids {
            let owner: SQLQueryString = userId.map { "uploaded_by = \(bind: $0)" } ?? "uploaded_by_visitor = \(bind: visitor ?? "")"
            let linked = try await db.raw("""
                UPDATE attachments SET message_id = \(bind: messageId)
                WHERE id = \(bind: id) AND workspace_id = \(bind: workspaceId) AND message_id IS NULL AND status = 'stored' AND \(owner)
                RETURNING id
                """).first()
            guard linked != nil else { throw OutboundError.attachment("attachment \(id) is not an unsent upload of yours") }
        }
    }

    /// Ties the sender's uploads to a just-stored outbound message and returns the message
    /// carrying them (shared by a message sent now and one queued).
    static func attach(on db: any SQLDatabase, files: [StoredAttachment], to message: Message, workspaceId: Int64, userId: Int64?) async throws -> Message {
        guard !files.isEmpty else { return message }
        try await link(on: db, ids: files.map(\.attachment.id), messageId: message.id, workspaceId: workspaceId, userId: userId, visitor: nil)
        var linked = message
        linked.attachments = files.map { file in
            var attachment = file.attachment
            attachment.messageId = message.id
            return attachment
        }
        return linked
    }

    static func touchMessage(on db: any SQLDatabase, workspaceId: Int64, messageId: Int64, at now: Date) async throws {
        try await db.raw("UPDATE messages SET updated_at = \(bind: now.epochMilliseconds) WHERE id = \(bind: messageId)").run()
        try await EventLog.append(on: db, workspaceId: workspaceId, type: .messageUpdated, subjectId: messageId, payload: ["messageId": messageId], at: now)
    }

    static func decode(_ row: any SQLRow) throws -> StoredAttachment {
        var stored = try decodeRow(row)
        stored.attachment.signingKey = stored.accessKey
        return stored
    }

    static func decodeRow(_ row: any SQLRow) throws -> StoredAttachment {
        let kind = AttachmentKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .document
        let status = AttachmentStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed
        return StoredAttachment(
            attachment: Attachment(id: try row.decode(column: "id", as: Int64.self), messageId: try row.decode(column: "message_id", as: Int64?.self),
                                   kind: kind, status: status, contentType: try row.decode(column: "content_type", as: String?.self),
                                   fileName: try row.decode(column: "file_name", as: String.self),
                                   size: try row.decode(column: "size", as: Int64?.self), failure: try row.decode(column: "failure", as: String?.self)),
            workspaceId: try row.decode(column: "workspace_id", as: Int64.self),
            channelId: try row.decode(column: "channel_id", as: Int64?.self),
            blobKey: try row.decode(column: "blob_key", as: String?.self),
            accessKey: try row.decode(column: "access_key", as: String.self),
            uploadedBy: try row.decode(column: "uploaded_by", as: Int64?.self),
            uploadedByVisitor: try row.decode(column: "uploaded_by_visitor", as: String?.self)
        )
    }

    static func newAccessKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.hexEncoded
    }
}
