import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Reaching a contact past a closed window: queued messages (changed or withdrawn by their
/// author), closing-soon reminders, and the notifications they become.
struct ReachController {
    let services: Services

    struct QueuedPatch: Decodable {
        let text: String?
        let queueExpiresAt: String?

        enum CodingKeys: String, CodingKey { case text, queueExpiresAt }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            text = try container.decodeUnlessNull(String.self, forKey: .text)
            queueExpiresAt = try container.decodeUnlessNull(String.self, forKey: .queueExpiresAt)
        }
    }

    struct ReminderBody: Decodable {
        let hoursBefore: Int
    }

    func register(_ api: APIRoutes) {
        api.authenticated(.patch, "/api/v1/messages/{id}", RouteDoc(
            summary: "Change a queued message's text or expiry (its author, while it is queued)", tag: "messages",
            body: "QueuedMessagePatch", response: "Message", errors: [404, 409, 422]), handler: editQueued)
        api.authenticated(.post, "/api/v1/messages/{id}/cancel", RouteDoc(
            summary: "Withdraw a queued message (its author, while it is queued); it stays in the timeline as cancelled", tag: "messages",
            response: "Message", errors: [404, 409]), handler: cancelQueued)
        api.authenticated(.get, "/api/v1/contacts/{id}/reminders", RouteDoc(
            summary: "The caller's closing-soon reminders on this contact that have not fired", tag: "reminders",
            response: "WindowReminderPage", errors: [404]), handler: contactReminders)
        api.authenticated(.post, "/api/v1/contacts/{id}/reminders", RouteDoc(
            summary: "Be notified hoursBefore hours before the free-text window of the contact's conversation closes (replaces the caller's earlier reminder there)",
            tag: "reminders", body: "WindowReminderInput", response: "WindowReminder", status: 201, errors: [404, 409, 422]), handler: setReminder)
        api.authenticated(.get, "/api/v1/reminders", RouteDoc(summary: "The caller's reminders that have not fired", tag: "reminders",
                                                            response: "WindowReminderPage"), handler: myReminders)
        api.authenticated(.delete, "/api/v1/reminders/{id}", RouteDoc(summary: "Remove one of the caller's reminders", tag: "reminders",
                                                                    status: 204, errors: [404]), handler: deleteReminder)
        api.authenticated(.get, "/api/v1/notifications", RouteDoc(
            summary: "The caller's notifications, newest first", tag: "reminders", response: "NotificationPage",
            query: [QueryParameter("unread", Schema.boolean, "only unread ones"), QueryParameter("cursor", Schema.string, "from the previous page"),
                    QueryParameter("limit", Schema.integer, "1 to 200 (default 50)")]), handler: notifications)
        api.authenticated(.post, "/api/v1/notifications/{id}/read", RouteDoc(summary: "Mark one of the caller's notifications read", tag: "reminders",
                                                                           response: "Notification", errors: [404]), handler: markRead)
    }

    @Sendable func editQueued(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Message> {
        let user = context.identity.user
        let id = try context.id("id", what: "message")
        let body = try await RequestDecoding.decode(QueuedPatch.self, from: request, context: context)
        guard body.text != nil || body.queueExpiresAt != nil else {
            throw APIError.badRequest("send 'text', 'queueExpiresAt' or both", field: "text")
        }
        if let text = body.text {
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw APIError.badRequest("field 'text' must not be empty", field: "text") }
            guard text.count <= MessagesController.maxTextLength else {
                throw APIError.badRequest("field 'text' must be at most \(MessagesController.maxTextLength) characters", field: "text")
            }
        }
        let now = services.clock.now()
        let expiry = try body.queueExpiresAt.map { try MessagesController.queueExpiry($0, now: now) }
        return JSONResponse(try await queuedCall {
            try await services.queued.edit(messageId: id, workspaceId: user.workspaceId, userId: user.id, text: body.text, expiresAt: expiry, at: now)
        })
    }

    @Sendable func cancelQueued(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Message> {
        let user = context.identity.user
        let id = try context.id("id", what: "message")
        return JSONResponse(try await queuedCall {
            try await services.queued.cancel(messageId: id, workspaceId: user.workspaceId, userId: user.id, at: services.clock.now())
        })
    }

    private func queuedCall(_ body: () async throws -> Message) async throws -> Message {
        do {
            return try await MessagesController(services: services).mapped(body)
        } catch StoreError.notFound {
            throw APIError.notFound("message")
        }
    }

    /// The path's contact, if the caller sees it and it is of their workspace.
    private func contact(_ context: AuthenticatedContext) async throws -> Int64 {
        let contactId = try await context.visibleContact(services)
        guard try await services.contacts.find(id: contactId, workspaceId: context.identity.user.workspaceId) != nil else {
            throw APIError.notFound("contact")
        }
        return contactId
    }

    @Sendable func contactReminders(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<WindowReminder>> {
        let contactId = try await contact(context)
        let user = context.identity.user
        return JSONResponse(Page(items: try await services.reminders.waiting(workspaceId: user.workspaceId, userId: user.id, contactId: contactId),
                                 nextCursor: nil))
    }

    @Sendable func myReminders(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<WindowReminder>> {
        let user = context.identity.user
        return JSONResponse(Page(items: try await services.reminders.waiting(workspaceId: user.workspaceId, userId: user.id, contactId: nil), nextCursor: nil))
    }

    @Sendable func setReminder(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<WindowReminder> {
        let contactId = try await contact(context)
        let user = context.identity.user
        let body = try await RequestDecoding.decode(ReminderBody.self, from: request, context: context)
        guard WindowReminder.hoursRange.contains(body.hoursBefore) else {
            throw APIError.badRequest("field 'hoursBefore' must be \(WindowReminder.hoursRange.lowerBound) to \(WindowReminder.hoursRange.upperBound)",
                                      field: "hoursBefore")
        }
        do {
            let reminder = try await services.reminders.set(workspaceId: user.workspaceId, userId: user.id, contactId: contactId,
                                                            hoursBefore: body.hoursBefore, at: services.clock.now())
            services.reminderSignal.signal()
            return JSONResponse(reminder, status: .created)
        } catch let refusal as ReminderRepository.Refusal {
            switch refusal {
            case .noConversation:
                throw APIError(.conflict, code: "no_conversation", message: "the contact has no conversation yet")
            case .noWindow(let kind):
                throw APIError.unprocessable("no_window", "\(kind.displayName) has no messaging window: there is nothing to be reminded of")
            case .windowClosed:
                throw APIError(.conflict, code: "window_closed", message: "the window is already closed")
            }
        }
    }

    @Sendable func deleteReminder(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let user = context.identity.user
        guard try await services.reminders.delete(id: try context.id("id", what: "reminder"), workspaceId: user.workspaceId, userId: user.id) else {
            throw APIError.notFound("reminder")
        }
        return Response(status: .noContent)
    }

    @Sendable func notifications(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<UserNotification>> {
        let user = context.identity.user
        let query = request.uri.queryParameters
        let limit = try Limit.parse(query.get("limit"))
        let before = try Cursor.decode(query.get("cursor"), count: 1)?.first
        let unread: Bool
        switch query.get("unread") {
        case nil, "false": unread = false
        case "true": unread = true
        default: throw APIError.badRequest("query parameter 'unread' must be true or false", field: "unread")
        }
        let items = try await services.notifications.list(workspaceId: user.workspaceId, userId: user.id, unreadOnly: unread, beforeId: before, limit: limit)
        return JSONResponse(Page(items: items, nextCursor: items.count == limit ? items.last.map { Cursor.encode([$0.id]) } : nil))
    }

    @Sendable func markRead(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<UserNotification> {
        let user = context.identity.user
        guard let notification = try await services.notifications.markRead(id: try context.id("id", what: "notification"), workspaceId: user.workspaceId,
                                                                           userId: user.id, at: services.clock.now()) else {
            throw APIError.notFound("notification")
        }
        return JSONResponse(notification)
    }
}
