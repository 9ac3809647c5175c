import Foundation
import ParleyCore
import SQLKit

extension AuthenticatedContext {
    /// The user whose view limits which contacts the caller sees, or nil when the caller sees
    /// every contact. An agent of a workspace where agents do not see All sees a contact only
    /// when its latest conversation is theirs or unassigned (or it has none): the Mine and
    /// Unassigned views.
    func restrictedContactViewer(_ services: Services) async throws -> Int64? {
        let user = identity.user
        guard user.role == .agent else { return nil }
        guard let workspace = try await services.workspaces.find(id: user.workspaceId), !user.seesAll(workspace.settings) else {
            return nil
        }
        return user.id
    }

    /// The `{id}` contact of the path, if the caller may see it, or a 404 (see
    /// `restrictedContactViewer`).
    func visibleContact(_ services: Services) async throws -> Int64 {
        let contactId = try id("id", what: "contact")
        let user = identity.user
        guard let viewer = try await restrictedContactViewer(services) else { return contactId }
        let assignee: Int64?? = try await services.database.read { db in
            try await db.raw("""
                SELECT assignee_id FROM conversations
                WHERE contact_id = \(bind: contactId) AND workspace_id = \(bind: user.workspaceId) AND is_latest = \(bind: true)
                """).first().map { try $0.decode(column: "assignee_id", as: Int64?.self) }
        }
        if let owner = assignee ?? nil, owner != viewer { throw APIError.notFound("contact") }
        return contactId
    }
}
