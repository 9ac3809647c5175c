import Foundation
import Hummingbird
import HummingbirdWebSocket
import ParleyCore
import ParleyStore

/// The realtime stream: `GET /api/v1/events` upgraded to a WebSocket, the tickets browsers use
/// to open it, and who is online.
struct EventsController {
    let services: Services
    let hub: EventHub

    struct TicketView: Encodable, Sendable {
        let ticket: String
        let expiresAt: Date
    }

    /// A ticket is for opening a socket right away: short-lived and single use, so one that leaks
    /// from a URL (logs, history) is worthless.
    static let ticketLifetime: TimeInterval = 30

    func register(_ api: APIRoutes) {
        api.authenticated(.post, "/api/v1/events/ticket", RouteDoc(summary: "A single-use ticket (30 s) to open the event stream where no header can be set",
                                                         tag: "realtime", response: "EventTicket", status: 201), handler: ticket)
        api.authenticated(.get, "/api/v1/presence", RouteDoc(summary: "Users of the workspace connected to the event stream now", tag: "realtime", response: "Presence"),
                handler: presence)
        api.webSocket("/api/v1/events", RouteDoc(
            summary: "WebSocket of live events. Authenticate with a bearer token, the session cookie (same origin only) or ?ticket=. "
                + "?after=ID replays every event after ID first (a 'reset' frame when ID is no longer kept).",
            tag: "realtime", status: 101,
            query: [QueryParameter("after", Schema.integer, "the last event id the client has"),
                    QueryParameter("ticket", Schema.string, "from POST /api/v1/events/ticket")],
            errors: [403, 426]
        ), shouldUpgrade: shouldUpgrade, onUpgrade: { inbound, outbound, context in
            guard let user = context.requestContext.streamUser.value else { return }
            let after = context.request.uri.queryParameters.get("after").flatMap { Int64($0) }
            let workspace = try await services.workspaces.find(id: user.workspaceId)
            let session = EventStreamSession(hub: hub, services: services, user: user, seesAll: workspace.map { user.seesAll($0.settings) } ?? false,
                                             after: after, logger: context.logger)
            await session.run(inbound: inbound, outbound: outbound)
        })
    }

    @Sendable func ticket(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<TicketView> {
        let identity = context.identity
        let now = services.clock.now()
        let expiresAt = now.addingTimeInterval(Self.ticketLifetime)
        let ticket = try await services.oneTimeTokens.issue(purpose: .eventTicket, userId: identity.user.id, expiresAt: expiresAt, at: now)
        return JSONResponse(TicketView(ticket: ticket, expiresAt: expiresAt), status: .created)
    }

    @Sendable func presence(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<FramePayload.Presence> {
        let identity = context.identity
        return JSONResponse(FramePayload.Presence(online: await hub.online(workspaceId: identity.user.workspaceId)))
    }

    /// Checks everything before the upgrade, so a bad request gets an ordinary JSON error.
    @Sendable func shouldUpgrade(_ request: Request, context: AppRequestContext) async throws -> RouterShouldUpgrade {
        let params = request.uri.queryParameters
        if let raw = params.get("after"), Int64(raw).map({ $0 >= 0 }) != true {
            throw APIError.badRequest("query parameter 'after' must be an event id (a whole number)", field: "after")
        }
        guard request.headers[.upgrade]?.lowercased() == "websocket" else {
            throw APIError(.upgradeRequired, code: "websocket_required", message: "this route is a WebSocket: send an Upgrade: websocket request")
        }
        var user: User?
        if let ticket = params.get("ticket") {
            guard let userId = try await services.oneTimeTokens.consume(ticket, purpose: .eventTicket, at: services.clock.now()),
                  let found = try await services.users.find(id: userId), !found.disabled else {
                throw APIError(.unauthorized, code: "invalid_ticket", message: "the ticket was already used, has expired, or never existed")
            }
            user = found
        } else if let identity = context.identity {
            // A page on another site can open a WebSocket that carries our cookie; only our own
            // pages may use the cookie here.
            if identity.viaCookie, !Self.sameOrigin(request, publicURL: services.configuration.publicURL) {
                throw APIError.forbidden("the session cookie opens the event stream only from Parley's own pages")
            }
            user = identity.user
        }
        guard let user else { throw APIError.unauthorized }
        context.streamUser.value = user
        return .upgrade([:])
    }

    /// Whether the request comes from one of Parley's own pages: its Origin is the public URL's,
    /// or the very host it was sent to.
    static func sameOrigin(_ request: Request, publicURL: String) -> Bool {
        guard let origin = request.headers[.origin]?.lowercased() else { return false }
        if let url = URL(string: publicURL), let scheme = url.scheme, let host = url.host {
            let own = "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
            if origin == own.lowercased() { return true }
        }
        guard let authority = request.head.authority?.lowercased(), let url = URL(string: origin), let host = url.host else { return false }
        return (url.port.map { "\(host):\($0)" } ?? host) == authority
    }
}
