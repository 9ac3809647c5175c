import Foundation
import ParleyCore
import ParleyStore
import SQLKit

extension AuthenticatedContext {
    /// The user whose view limits which contacts the caller sees, or nil when the caller sees
    /// every contact. An agent of a workspace where agents do not see All sees a contact only
    /// when its latest conversation is theirs or unassigned (or it has none): the Mine and
    /// Unassigned views.
    func restrictedContactViewer(_ services: Services) async throws -> Int64? {
        let user = identity.user
        guard user.role == .agent else { return nil }
        return try await services.database.read { db in try await Self.agentsSeeOnlyOwn(user.workspaceId, on: db) } ? user.id : nil
    }

    /// The `{id}` contact of the path, if the caller may see it, or a 404 (see
    /// `restrictedContactViewer`). An agent's check is one read: it comes before most of what
    /// an agent does with a contact.
    func visibleContact(_ services: Services) async throws -> Int64 {
        let contactId = try id("id", what: "contact")
        let user = identity.user
        guard user.role == .agent else { return contactId }
        let hidden = try await services.database.read { db -> Bool in
            guard try await Self.agentsSeeOnlyOwn(user.workspaceId, on: db) else { return false }
            let assignee = try await db.raw("""
                SELECT assignee_id FROM conversations
                WHERE contact_id = \(bind: contactId) AND workspace_id = \(bind: user.workspaceId) AND is_latest = \(bind: true)
                """).first().map { try $0.decode(column: "assignee_id", as: Int64?.self) }
            guard let owner = assignee ?? nil else { return false }
            return owner != user.id
        }
        if hidden { throw APIError.notFound("contact") }
        return contactId
    }

    /// Whether the workspace's agents do not see All. Callers ask it for agents only, before
    /// the read, so that other roles cost no read at all.
    private static func agentsSeeOnlyOwn(_ workspaceId: Int64, on db: any SQLDatabase) async throws -> Bool {
        try await WorkspaceRepository.agentsSeeAll(on: db, workspaceId: workspaceId) == false
    }
}
