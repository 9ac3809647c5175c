import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Outgoing webhooks: owners and managers subscribe a URL to event kinds; the signing secret
/// is shown once, at creation. Deliveries are listed with their response codes and can be replayed.
struct WebhookSubscriptionsController {
    let services: Services

    var repository: WebhookRepository { WebhookRepository(database: services.database) }

    struct CreateRequest: Decodable {
        let url: String
        let events: [String]
    }

    struct SubscriptionResponse: Encodable, Sendable {
        let id: Int64
        let url: String
        let events: [String]
        let enabled: Bool
        let createdAt: Date
        /// Only in the answer to the creation.
        let secret: String?
    }

    struct DeliveryResponse: Encodable, Sendable {
        let id: Int64
        let subscriptionId: Int64
        let eventId: Int64
        let eventType: String
        let status: String
        let attempts: Int
        let responseCode: Int?
        let lastError: String?
        let nextAttemptAt: Date?
        let createdAt: Date
        let deliveredAt: Date?
    }

    func register(_ api: APIRoutes) {
        api.authenticated(.get, "/api/v1/webhook-subscriptions", RouteDoc(summary: "Outgoing webhook subscriptions (owners and managers)", tag: "webhooks",
                                                                response: "WebhookSubscriptionPage", errors: [403]), handler: list)
        api.authenticated(.post, "/api/v1/webhook-subscriptions", RouteDoc(summary: "Subscribe a URL to event kinds; the signing secret is returned once",
                                                                 tag: "webhooks", body: "CreateWebhookSubscription", response: "WebhookSubscription",
                                                                 status: 201, errors: [403]), handler: create)
        api.authenticated(.delete, "/api/v1/webhook-subscriptions/{id}", RouteDoc(summary: "Delete a subscription and its deliveries", tag: "webhooks",
                                                                        status: 204, errors: [403, 404]), handler: delete)
        api.authenticated(.get, "/api/v1/webhook-subscriptions/{id}/deliveries", RouteDoc(
            summary: "A subscription's deliveries with attempts and response codes, newest first", tag: "webhooks", response: "WebhookDeliveryPage",
            query: [QueryParameter("cursor", Schema.string, "from nextCursor"), QueryParameter("limit", Schema.integer, "1 to 200, default 50")],
            errors: [403, 404]), handler: deliveries)
        api.authenticated(.post, "/api/v1/webhook-deliveries/{id}/replay", RouteDoc(summary: "Send a delivery again now", tag: "webhooks",
                                                                          response: "WebhookDelivery", errors: [403, 404]), handler: replay)
    }

    /// The event kinds a subscription may name (`*` for all).
    static var eventKinds: [String] { EventType.allCases.map(\.rawValue) }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<SubscriptionResponse>> {
        let identity = try context.requireAdministrator()
        let rows = try await repository.list(workspaceId: identity.user.workspaceId)
        return JSONResponse(Page(items: rows.map { present($0, secret: nil) }, nextCursor: nil))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<SubscriptionResponse> {
        let identity = try context.requireAdministrator()
        let body = try await RequestDecoding.decode(CreateRequest.self, from: request, context: context)
        try await WorkflowInput.checkTarget(body.url, services: services, field: "url")
        guard !body.events.isEmpty, body.events.count <= 50 else { throw APIError.badRequest("field 'events' needs 1 to 50 event kinds", field: "events") }
        if let unknown = body.events.first(where: { $0 != "*" && !Self.eventKinds.contains($0) }) {
            throw APIError.badRequest("'\(unknown)' is not an event kind (one of \(Self.eventKinds.joined(separator: ", ")) or *)", field: "events")
        }
        let secret = "whsec_" + TokenRepository.generate().dropFirst(3)
        // Deliveries start with the events after the first subscription, not the whole history.
        try await WorkflowRepository(database: services.database).ensureCursor(WebhookRepository.consumer, at: try await services.eventFeed.head(),
                                                                               now: services.clock.now())
        let created = try await repository.create(workspaceId: identity.user.workspaceId, url: body.url, eventTypes: Array(Set(body.events)).sorted(),
                                                  secret: secret, at: services.clock.now())
        return JSONResponse(present(created, secret: secret), status: .created)
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = try context.requireAdministrator()
        guard try await repository.delete(id: try context.id("id", what: "subscription"), workspaceId: identity.user.workspaceId) else {
            throw APIError.notFound("subscription")
        }
        return Response(status: .noContent)
    }

    @Sendable func deliveries(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<DeliveryResponse>> {
        let identity = try context.requireAdministrator()
        let id = try context.id("id", what: "subscription")
        guard try await repository.find(id: id, workspaceId: identity.user.workspaceId) != nil else { throw APIError.notFound("subscription") }
        let limit = try Limit.parse(request.uri.queryParameters.get("limit"))
        let before = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 1)?.first
        let rows = try await repository.deliveries(subscriptionId: id, workspaceId: identity.user.workspaceId, beforeId: before, limit: limit + 1)
        return JSONResponse(Page(rows: rows, limit: limit, item: present, cursor: { [$0.id] }))
    }

    @Sendable func replay(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<DeliveryResponse> {
        let identity = try context.requireAdministrator()
        guard let delivery = try await repository.replay(id: try context.id("id", what: "delivery"), workspaceId: identity.user.workspaceId,
                                                         at: services.clock.now()) else { throw APIError.notFound("delivery") }
        return JSONResponse(present(delivery))
    }

    func present(_ subscription: WebhookSubscription, secret: String?) -> SubscriptionResponse {
        SubscriptionResponse(id: subscription.id, url: subscription.url, events: subscription.eventTypes, enabled: subscription.enabled,
                             createdAt: subscription.createdAt, secret: secret)
    }

    func present(_ delivery: WebhookDelivery) -> DeliveryResponse {
        DeliveryResponse(id: delivery.id, subscriptionId: delivery.subscriptionId, eventId: delivery.eventId, eventType: delivery.eventType,
                         status: delivery.status, attempts: delivery.attempts, responseCode: delivery.responseCode, lastError: delivery.lastError,
                         nextAttemptAt: delivery.nextAttemptAt, createdAt: delivery.createdAt, deliveredAt: delivery.deliveredAt)
    }
}
