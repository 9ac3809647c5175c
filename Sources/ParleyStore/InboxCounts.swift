import Foundation
import SQLKit

/// Open conversations of a workspace, and how many have unread messages, per assignee (nil:
/// unassigned): enough to give every user their All, Mine and Unassigned counts from one query.
public struct InboxCounts: Sendable, Equatable {
    public struct Tally: Sendable, Equatable {
        public var open: Int64
        public var unread: Int64

        public init(open: Int64 = 0, unread: Int64 = 0) {
            self.open = open
            self.unread = unread
        }
    }

    public var byAssignee: [Int64?: Tally]

    public init(byAssignee: [Int64?: Tally]) {
        self.byAssignee = byAssignee
    }

    public var all: Tally {
        byAssignee.values.reduce(into: Tally()) { total, tally in
            total.open += tally.open
            total.unread += tally.unread
        }
    }

    public var unassigned: Tally { byAssignee[nil] ?? Tally() }

    public func mine(_ userId: Int64) -> Tally { byAssignee[userId] ?? Tally() }
}

extension InboxRepository {
    public func counts(workspaceId: Int64) async throws -> InboxCounts {
        try await database.read { db in
            let rows = try await db.raw("""
                SELECT assignee_id, count(*) AS open, sum(CASE WHEN unread_count > 0 THEN 1 ELSE 0 END) AS unread
                FROM conversations WHERE workspace_id = \(bind: workspaceId) AND status = 'open'
                GROUP BY assignee_id
                """).all()
            var counts = InboxCounts(byAssignee: [:])
            for row in rows {
                counts.byAssignee[try row.decode(column: "assignee_id", as: Int64?.self)] = InboxCounts.Tally(
                    open: try row.decode(column: "open", as: Int64.self),
                    unread: try row.decode(column: "unread", as: Int64?.self) ?? 0
                )
            }
            return counts
        }
    }
}
