import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// The inbox list, the conversation lifecycle and the contact timeline.
struct ConversationsController {
    let services: Services

    struct CloseBody: Decodable {
        let category: String?
        let summary: String?
    }

    struct AssigneeBody: Decodable {
        let userId: Int64?

        enum CodingKeys: String, CodingKey { case userId }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.contains(.userId) else {
                throw DecodingError.keyNotFound(CodingKeys.userId, .init(codingPath: [], debugDescription: "userId is required (null unassigns)"))
            }
            userId = try container.decodeIfPresent(Int64.self, forKey: .userId)
        }
    }

    struct TimelineItem: Encodable, Sendable {
        let type: String
        let at: Date
        let message: Message?
        let activity: ActivityView?
    }

    struct ActivityView: Encodable, Sendable {
        let id: Int64
        let conversationId: Int64
        let kind: ActivityKind
        let actor: Reference?
        let details: JSONValue
    }

    func register(_ api: APIRoutes) {
        api.authenticated(.get, "/api/v1/conversations", RouteDoc(
            summary: "The inbox: each contact's latest conversation, by view, status, filters and search", tag: "inbox", response: "InboxPage",
            query: [
                QueryParameter("view", Schema.enumeration(InboxView.allCases.map(\.rawValue)), "all (default), mine or unassigned"),
                QueryParameter("status", Schema.enumeration(StatusFilter.allCases.map(\.rawValue)), "open (default), closed or all"),
                QueryParameter("q", Schema.string, "search: partial name or phone digits, exact email or custom text field"),
                QueryParameter("channel", Schema.integer, "channel id"),
                QueryParameter("tag", Schema.string, "contact tag"),
                QueryParameter("assignee", Schema.integer, "assignee user id"),
                QueryParameter("sort", Schema.enumeration(InboxSort.allCases.map(\.rawValue)), "newest (default), oldest or waiting"),
                QueryParameter("cursor", Schema.string, "from nextCursor"),
                QueryParameter("limit", Schema.integer, "1 to 200, default 50"),
                QueryParameter("closingWithin", Schema.integer,
                               "Windows closing soon: open conversations whose messaging window closes within this many hours (1 to 168), soonest first"),
            ], errors: [403]), handler: list)
        api.authenticated(.get, "/api/v1/conversations/counts", RouteDoc(summary: "Open conversations (and how many are unread) in All, Mine and Unassigned",
                                                              tag: "inbox", response: "InboxCounts"), handler: counts)
        api.authenticated(.get, "/api/v1/contacts/{id}/conversation", RouteDoc(summary: "The contact's latest conversation", tag: "inbox", response: "Conversation", errors: [404]),
                handler: current)
        api.authenticated(.post, "/api/v1/contacts/{id}/conversation/open", RouteDoc(summary: "Open a conversation (200 with the open one if there is one)", tag: "inbox",
                                                                           response: "Conversation", status: 201, alternateStatus: 200, errors: [404]), handler: open)
        api.authenticated(.post, "/api/v1/contacts/{id}/conversation/close", RouteDoc(summary: "Close the open conversation with a closing note per the workspace's mode",
                                                                            tag: "inbox", body: "CloseRequest", response: "Conversation", errors: [404, 409, 422]), handler: close)
        api.authenticated(.put, "/api/v1/contacts/{id}/conversation/assignee", RouteDoc(summary: "Assign (userId) or unassign (null) the open conversation", tag: "inbox",
                                                                              body: "AssigneeRequest", response: "Conversation", errors: [403, 404, 409, 422]), handler: assign)
        api.authenticated(.post, "/api/v1/contacts/{id}/conversation/read", RouteDoc(summary: "Mark the contact's conversation as read", tag: "inbox", status: 204, errors: [404]),
                handler: markRead)
        api.authenticated(.post, "/api/v1/contacts/{id}/conversation/unread", RouteDoc(summary: "Mark the contact's conversation as unread", tag: "inbox", status: 204,
                                                                             errors: [404]), handler: markUnread)
        api.authenticated(.get, "/api/v1/contacts/{id}/timeline", RouteDoc(summary: "Messages and activity across episodes and channels, newest first", tag: "inbox",
                                                                 response: "TimelinePage",
                                                                 query: [QueryParameter("cursor", Schema.string, "from nextCursor"), QueryParameter("limit", Schema.integer, "1 to 200, default 50")],
                                                                 errors: [404]), handler: timeline)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<Row>> {
        let identity = context.identity
        let params = request.uri.queryParameters
        let view = try Choice<InboxView>.query(params.get("view"), name: "view", default: .all)
        let status = try Choice<StatusFilter>.query(params.get("status"), name: "status", default: .open)
        let sort = try Choice<InboxSort>.query(params.get("sort"), name: "sort", default: .newest)
        let limit = try Limit.parse(params.get("limit"))
        let closingWithin = try Self.integer(params.get("closingWithin"), name: "closingWithin")
        if let hours = closingWithin, !(1...168).contains(hours) {
            throw APIError.badRequest("query parameter 'closingWithin' must be 1 to 168 hours", field: "closingWithin")
        }
        // The closing-soon order has its own cursor space, after the three sorts.
        let sortIndex = closingWithin == nil ? Int64(InboxSort.allCases.firstIndex(of: sort) ?? 0) : Int64(InboxSort.allCases.count)
        var after: (key: Int64, id: Int64)?
        if let cursor = try Cursor.decode(params.get("cursor"), count: 3) {
            guard cursor[0] == sortIndex else {
                throw APIError(.badRequest, code: "invalid_cursor", message: "cursor belongs to another sort order", field: "cursor")
            }
            after = (cursor[1], cursor[2])
        }
        if view == .all, identity.user.role == .agent {
            guard let workspace = try await services.workspaces.find(id: identity.user.workspaceId), workspace.settings.agentsSeeAll else {
                throw APIError.forbidden("agents of this workspace see only the Mine and Unassigned views")
            }
        }
        let now = services.clock.now()
        var query = InboxQuery(
            workspaceId: identity.user.workspaceId, viewerId: identity.user.id, view: view, status: status,
            search: FormQuery.value("q", in: request.uri.query).flatMap(ContactSearchQuery.init),
            channelId: try Self.integer(params.get("channel"), name: "channel"),
            tag: params.get("tag").flatMap { $0.isEmpty ? nil : $0 },
            assigneeId: try Self.integer(params.get("assignee"), name: "assignee"),
            sort: sort, after: after, limit: limit + 1
        )
        query.closing = closingWithin.map { (now, TimeInterval($0) * 3600) }
        let rows = try await services.inbox.list(query)
        let page = Page(rows: rows, limit: limit, item: { Row(row: $0, now: now) }, cursor: { [sortIndex, $0.sortKey, $0.conversation.id] })
        return JSONResponse(page)
    }

    static func integer(_ raw: String?, name: String) throws -> Int64? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let value = Int64(raw) else { throw APIError.badRequest("query parameter '\(name)' must be an id", field: name) }
        return value
    }

    @Sendable func current(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Conversation> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        guard let conversation = try await services.conversations.latest(contactId: id, workspaceId: identity.user.workspaceId) else {
            throw APIError.notFound("conversation")
        }
        return JSONResponse(conversation)
    }

    @Sendable func open(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Conversation> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        let result = try await lifecycle {
            try await services.conversations.open(contactId: id, workspaceId: identity.user.workspaceId, actorUserId: identity.user.id, at: services.clock.now())
        }
        return JSONResponse(result.conversation, status: result.created ? .created : .ok)
    }

    @Sendable func close(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Conversation> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        let body = try await RequestDecoding.decode(CloseBody.self, from: request, context: context)
        guard let workspace = try await services.workspaces.find(id: identity.user.workspaceId) else { throw APIError.unauthorized }
        let note: (category: String?, summary: String?)
        switch ClosingNoteRules.validate(category: body.category, summary: body.summary, settings: workspace.settings) {
        case .success(let value): note = value
        case .failure(let failure): throw APIError.unprocessable(failure.code, failure.message, field: failure.field)
        }
        let conversation = try await lifecycle {
            try await services.conversations.close(contactId: id, workspaceId: workspace.id, actorUserId: identity.user.id,
                                                   category: note.category, summary: note.summary,
                                                   logic: workspace.settings.closingLogic, at: services.clock.now())
        }
        return JSONResponse(conversation)
    }

    @Sendable func assign(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Conversation> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        let body = try await RequestDecoding.decode(AssigneeBody.self, from: request, context: context)
        let conversation = try await lifecycle {
            try await services.conversations.assign(contactId: id, workspaceId: identity.user.workspaceId, actor: identity.user,
                                                    assigneeId: body.userId, at: services.clock.now())
        }
        return JSONResponse(conversation)
    }

    @Sendable func markRead(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        guard try await services.conversations.markRead(contactId: id, workspaceId: identity.user.workspaceId, actorUserId: identity.user.id,
                                                         at: services.clock.now()) else {
            throw APIError.notFound("conversation")
        }
        return Response(status: .noContent)
    }

    @Sendable func markUnread(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        guard try await services.conversations.markRead(contactId: id, workspaceId: identity.user.workspaceId, unread: true,
                                                         actorUserId: identity.user.id, at: services.clock.now()) else {
            throw APIError.notFound("conversation")
        }
        return Response(status: .noContent)
    }

    @Sendable func counts(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<CountsView> {
        let identity = context.identity
        guard let workspace = try await services.workspaces.find(id: identity.user.workspaceId) else { throw APIError.unauthorized }
        let counts = try await services.inbox.counts(workspaceId: workspace.id)
        return JSONResponse(CountsView(counts, userId: identity.user.id, seesAll: identity.user.seesAll(workspace.settings)))
    }

    @Sendable func timeline(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<TimelineItem>> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        let limit = try Limit.parse(request.uri.queryParameters.get("limit"))
        let cursor = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 3)
        guard try await services.contacts.find(id: id, workspaceId: identity.user.workspaceId) != nil else { throw APIError.notFound("contact") }
        let entries = try await services.timeline.page(contactId: id, workspaceId: identity.user.workspaceId,
                                                       before: cursor.map { ($0[0], $0[1], $0[2]) }, limit: limit + 1)
        return JSONResponse(Page(rows: entries, limit: limit, item: { entry -> TimelineItem in
            switch entry {
            case .message(let message):
                return TimelineItem(type: "message", at: message.createdAt, message: message, activity: nil)
            case .activity(let activity):
                let actor = zip(activity.actorUserId, activity.actorName).map { Reference(id: $0, name: $1) }
                return TimelineItem(type: "activity", at: activity.createdAt, message: nil,
                                    activity: ActivityView(id: activity.id, conversationId: activity.conversationId, kind: activity.kind,
                                                           actor: actor, details: JSONValue(parsing: activity.details)))
            }
        }, cursor: { [$0.createdAt.epochMilliseconds, $0.source, $0.id] }))
    }

    /// Maps lifecycle failures to API errors.
    func lifecycle<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ConversationError {
            switch error {
            case .contactNotFound: throw APIError.notFound("contact")
            case .noOpenConversation: throw APIError(.conflict, code: "no_open_conversation", message: "the contact has no open conversation")
            case .assigneeNotFound: throw APIError.unprocessable("unknown_user", "no active user with that id in this workspace", field: "userId")
            case .notAllowed: throw APIError.forbidden("agents may take unassigned conversations and hand on their own; this one is assigned to someone else")
            }
        }
    }
}

/// Both values, or nil.
func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
