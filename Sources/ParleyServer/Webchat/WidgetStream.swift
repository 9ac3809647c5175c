import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import ParleyCore
import ParleyStore

/// `GET /widget/v1/events`: a visitor's live line. The token travels as the second WebSocket
/// subprotocol (`new WebSocket(url, ["parley-visitor", token])`), so it is checked before the
/// upgrade and never appears in a URL.
struct WidgetStream {
    let services: Services
    let hub: EventHub

    static let subprotocol = "parley-visitor"
    static let protocolHeader = HTTPField.Name("Sec-WebSocket-Protocol")!

    func register(_ api: APIRoutes) {
        api.webSocket("/widget/v1/events", RouteDoc(
            summary: "A website chat visitor's WebSocket: the team's messages and typing arrive live; the widget sends typing, delivered and read. "
                + "Subprotocols: parley-visitor and the visitor token; ?host= the embedding page's origin.",
            tag: "widget", authenticated: false, status: 101,
            query: [QueryParameter("host", Schema.string, "the origin of the page showing the widget")],
            errors: [401, 403, 426]
        ), shouldUpgrade: shouldUpgrade, onUpgrade: { inbound, outbound, context in
            guard let (channel, token) = context.requestContext.widgetVisitor.value else { return }
            let session = WidgetStreamSession(services: services, hub: hub, channel: channel, token: token, logger: context.logger)
            await session.run(inbound: inbound, outbound: outbound)
        })
    }

    @Sendable func shouldUpgrade(_ request: Request, context: AppRequestContext) async throws -> RouterShouldUpgrade {
        guard request.headers[.upgrade]?.lowercased() == "websocket" else {
            throw APIError(.upgradeRequired, code: "websocket_required", message: "this route is a WebSocket: send an Upgrade: websocket request")
        }
        let protocols = (request.headers[Self.protocolHeader] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let invalid = APIError(.unauthorized, code: "invalid_visitor_token", message: "open the socket with the subprotocols parley-visitor and the visitor token")
        guard protocols.count == 2, protocols[0] == Self.subprotocol, let channelId = VisitorToken.claimedChannel(protocols[1]),
              let channel = try await services.webchat.find(channelId: channelId),
              let token = VisitorToken.verify(protocols[1], channel: channel) else { throw invalid }
        if WidgetController.fromForeignPage(request, publicURL: services.configuration.publicURL) {
            throw APIError(.forbidden, code: "origin_not_allowed", message: "the widget's socket is opened from Parley's own frame only")
        }
        try WidgetController.checkHost(request.uri.queryParameters.get("host").map { String($0) }, channel: channel,
                                       publicURL: services.configuration.publicURL)
        context.widgetVisitor.value = (channel, token)
        return .upgrade([Self.protocolHeader: Self.subprotocol])
    }
}

/// One widget tab's socket: `ready` with the unread count, then the visitor's frames.
struct WidgetStreamSession {
    let services: Services
    let hub: EventHub
    let channel: WebchatChannel
    let token: VisitorToken
    let logger: Logger

    private struct ClientFrame: Decodable {
        let type: String
        let typing: Bool?
        let through: Int64?
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let found = try? await services.webchat.visitor(channelId: channel.channelId, externalId: token.externalId)
        let subscriber = hub.visitors.register(workspaceId: channel.workspaceId, channelId: channel.channelId,
                                               externalId: token.externalId, contactId: found?.contactId)
        do {
            let unread = try await found.asyncMap { try await services.webchat.unreadCount(identityId: $0.identityId) } ?? 0
            try await outbound.writeTextMessage(FrameText.signal("ready", VisitorFrames.Ready(unread: unread)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await receive(inbound, subscriber: subscriber) }
                group.addTask {
                    for await frame in subscriber.frames { try await outbound.writeTextMessage(frame) }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            logger.debug("widget stream ended", metadata: ["error": "\(error)"])
        }
        if let contactId = subscriber.contactId {
            await hub.visitorTyping(workspaceId: channel.workspaceId, contactId: contactId, name: await visitorName(contactId), typing: false)
        }
        hub.visitors.unregister(subscriber)
        try? await outbound.close(.goingAway, reason: nil)
    }

    private func receive(_ inbound: WebSocketInboundStream, subscriber: VisitorSubscriber) async throws {
        var name: String?
        for try await message in inbound.messages(maxSize: 4096) {
            guard case .text(let text) = message, let frame = try? JSONDecoder().decode(ClientFrame.self, from: Data(text.utf8)) else {
                subscriber.offer(error("invalid_frame", "frames are JSON objects with a \"type\": typing, delivered, read or ping"))
                continue
            }
            switch frame.type {
            case "ping":
                subscriber.offer(FrameText.signal("pong"))
            case "typing":
                // Typing before the first message has nobody to show it to.
                guard let typing = frame.typing, let contactId = subscriber.contactId else { continue }
                if !typing || subscriber.allowTypingSignal(now: .now) {
                    if name == nil { name = await visitorName(contactId) }
                    await hub.visitorTyping(workspaceId: channel.workspaceId, contactId: contactId, name: name ?? "Visitor", typing: typing)
                }
            case "delivered", "read":
                guard let through = frame.through, through > 0 else {
                    subscriber.offer(error("invalid_frame", "\(frame.type) needs \"through\": the id of the newest message shown"))
                    continue
                }
                guard let visitor = try await services.webchat.visitor(channelId: channel.channelId, externalId: token.externalId) else { continue }
                _ = try await services.webchat.acknowledge(identityId: visitor.identityId, workspaceId: channel.workspaceId, throughId: through,
                                                           status: frame.type == "read" ? .read : .delivered, at: services.clock.now())
            default:
                subscriber.offer(error("unknown_frame", "unknown frame type '\(frame.type.prefix(40))'; expected typing, delivered, read or ping"))
            }
        }
    }

    private func visitorName(_ contactId: Int64) async -> String {
        guard let contact = try? await services.contacts.find(id: contactId, workspaceId: channel.workspaceId) else { return "Visitor" }
        let name = "\(contact.firstName) \(contact.lastName)".trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? "Visitor" : name
    }

    private func error(_ code: String, _ message: String) -> String {
        FrameText.signal("error", FramePayload.Failure(code: code, message: message))
    }
}
