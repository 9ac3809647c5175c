import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Workspace settings: closing notes, closing logic, whether agents see the All inbox.
struct WorkspaceController {
    let services: Services

    /// Every field optional: a PATCH changes only what it names.
    struct SettingsPatch: Decodable {
        let closingNoteMode: Choice<ClosingNoteMode>?
        let closingCategories: [String]?
        let closingLogic: Choice<ClosingLogic>?
        let agentsSeeAll: Bool?
        let channelPreference: [Choice<ChannelKind>]?

        enum CodingKeys: String, CodingKey {
            case closingNoteMode, closingCategories, closingLogic, agentsSeeAll, channelPreference
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            closingNoteMode = try container.decodeUnlessNull(Choice<ClosingNoteMode>.self, forKey: .closingNoteMode)
            closingCategories = try container.decodeUnlessNull([String].self, forKey: .closingCategories)
            closingLogic = try container.decodeUnlessNull(Choice<ClosingLogic>.self, forKey: .closingLogic)
            agentsSeeAll = try container.decodeUnlessNull(Bool.self, forKey: .agentsSeeAll)
            channelPreference = try container.decodeUnlessNull([Choice<ChannelKind>].self, forKey: .channelPreference)
        }
    }



    func register(_ api: APIRoutes) {
        api.authenticated(.get, "/api/v1/workspace/settings", RouteDoc(summary: "The workspace's settings", tag: "workspace", response: "WorkspaceSettings"),
                handler: get)
        api.authenticated(.patch, "/api/v1/workspace/settings", RouteDoc(summary: "Change settings (owners and managers)", tag: "workspace",
                                                               body: "WorkspaceSettingsPatch", response: "WorkspaceSettings", errors: [403]),
                handler: patch)
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<WorkspaceSettings> {
        let identity = context.identity
        guard let workspace = try await services.workspaces.find(id: identity.user.workspaceId) else { throw APIError.unauthorized }
        return JSONResponse(workspace.settings)
    }

    @Sendable func patch(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<WorkspaceSettings> {
        let identity = try context.requireAdministrator()
        let body = try await RequestDecoding.decode(SettingsPatch.self, from: request, context: context)
        guard let workspace = try await services.workspaces.find(id: identity.user.workspaceId) else { throw APIError.unauthorized }
        var settings = workspace.settings
        if let mode = body.closingNoteMode { settings.closingNoteMode = mode.value }
        if let logic = body.closingLogic { settings.closingLogic = logic.value }
        if let seeAll = body.agentsSeeAll { settings.agentsSeeAll = seeAll }
        if let preference = body.channelPreference {
            let kinds = preference.map(\.value)
            guard Set(kinds).count == kinds.count else {
                throw APIError.badRequest("field 'channelPreference' must not name a channel type twice", field: "channelPreference")
            }
            settings.channelPreference = kinds
        }
        if let categories = body.closingCategories {
            settings.closingCategories = try Self.validCategories(categories)
        }
        let updated = try await services.workspaces.updateSettings(workspaceId: workspace.id, settings: settings,
                                                                   actorUserId: identity.user.id, at: services.clock.now())
        return JSONResponse(updated.settings)
    }

    /// Trimmed, non-empty, unique (case-insensitively), bounded in count and length.
    static func validCategories(_ raw: [String]) throws -> [String] {
        guard raw.count <= WorkspaceSettings.maxCategories else {
            throw APIError.badRequest("field 'closingCategories' may hold at most \(WorkspaceSettings.maxCategories) categories", field: "closingCategories")
        }
        var seen = Set<String>()
        var result: [String] = []
        for (index, category) in raw.enumerated() {
            let trimmed = category.trimmingCharacters(in: .whitespacesAndNewlines)
            let field = "closingCategories[\(index)]"
            guard !trimmed.isEmpty, trimmed.count <= WorkspaceSettings.maxCategoryLength else {
                throw APIError.badRequest("field '\(field)' must be 1 to \(WorkspaceSettings.maxCategoryLength) characters", field: field)
            }
            guard seen.insert(trimmed.lowercased()).inserted else {
                throw APIError.badRequest("field '\(field)' repeats the category '\(trimmed)'", field: field)
            }
            result.append(trimmed)
        }
        return result
    }
}
