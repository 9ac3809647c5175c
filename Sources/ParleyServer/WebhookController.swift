import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyStore

/// `GET|POST /webhooks/{channelId}`: the provider's handshake, then signed events. Nothing is
/// stored before the signature is verified; replays are absorbed by the unique provider ids.
struct WebhookController {
    let services: Services

    func register(_ api: APIRoutes) {
        let doc = RouteDoc(summary: "Provider webhooks: GET answers the subscription handshake, POST carries signed events", tag: "webhooks",
                           authenticated: false, response: "ack", responseMediaType: "text/plain", errors: [401, 403, 404])
        // A provider without a GET handshake (Telegram, LINE, Viber, Twilio) answers GET 405.
        var get = doc
        get.errors.append(405)
        api.add(.get, "/webhooks/{channelId}", get, handler: handle)
        var post = doc
        post.bodyMediaType = "application/json"
        api.add(.post, "/webhooks/{channelId}", post, handler: handle)
    }

    @Sendable func handle(_ request: Request, context: AppRequestContext) async throws -> Response {
        let channelId = try context.id("channelId", what: "channel")
        guard let stored = try await services.channels.providerConfig(channelId: channelId),
              let adapter = services.channelRuntime.adapters[stored.kind] else { throw APIError.notFound("channel") }
        let channel = services.channelRuntime.config(stored, publicURL: services.configuration.publicURL)
        let body = request.method == .post ? try await Self.body(request) : []
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        let webhook = WebhookRequest(method: request.method.rawValue, url: channel.webhookURL + (request.uri.query.map { "?\($0)" } ?? ""),
                                     query: query, headers: headers, body: body)

        if request.method == .get {
            guard let reply = adapter.handshake(webhook, channel: channel) else {
                var error = APIError(.methodNotAllowed, code: "method_not_allowed", message: "\(stored.kind.rawValue) webhooks are POSTed")
                error.headers[.allow] = "POST"
                throw error
            }
            return Self.response(reply)
        }
        do {
            try adapter.verify(webhook, channel: channel)
        } catch {
            services.countRefusedWebhook(channel: stored.kind.rawValue, reason: "invalid_signature")
            context.logger.warning("webhook refused", metadata: ["channel": "\(channelId)", "reason": "\(error)"])
            throw APIError(.unauthorized, code: "invalid_signature", message: "the webhook's signature does not verify")
        }
        // A signature that leaves the body out is only worth something once and while fresh.
        let claimedNonce = try await checkReplay(adapter.replayMarkers(webhook), channelId: channelId, kind: stored.kind.rawValue)
        if claimedNonce == .replayed { return Self.response(adapter.acknowledgement) }
        do {
            try await process(webhook, adapter: adapter, channel: channel, stored: stored)
        } catch {
            if case .claimed(let nonce) = claimedNonce { try? await services.webhookNonces.release(channelId: channelId, nonce: nonce) }
            throw error
        }
        return Self.response(adapter.acknowledgement)
    }

    enum NonceClaim: Equatable {
        case none
        case claimed(String)
        case replayed
    }

    /// Refuses a stale request (401) and recognises a replayed nonce (acknowledged, not taken:
    /// the provider's own retries carry the same nonce).
    func checkReplay(_ markers: WebhookReplayMarkers?, channelId: Int64, kind: String) async throws -> NonceClaim {
        guard let markers else { return .none }
        let now = services.clock.now()
        guard abs(now.timeIntervalSince(markers.timestamp)) <= WebhookReplayMarkers.maxSkew else {
            services.countRefusedWebhook(channel: kind, reason: "stale")
            throw APIError(.unauthorized, code: "stale_webhook", message: "the webhook's timestamp is too far from the server's time")
        }
        guard try await services.webhookNonces.claim(channelId: channelId, nonce: markers.nonce, keepFor: 2 * WebhookReplayMarkers.maxSkew, at: now) else {
            services.countRefusedWebhook(channel: kind, reason: "replayed")
            return .replayed
        }
        return .claimed(markers.nonce)
    }

    func process(_ webhook: WebhookRequest, adapter: any ChannelAdapter, channel: ChannelConfig, stored: ChannelRepository.ProviderConfig) async throws {
        let channelId = stored.id
        let events: [InboundEvent]
        do {
            events = try adapter.parse(webhook, channel: channel)
        } catch {
            services.countRefusedWebhook(channel: stored.kind.rawValue, reason: "unreadable_body")
            throw APIError.badRequest("the webhook body could not be read: \(error)")
        }
        let now = services.clock.now()
        let looksUpProfiles = adapter is any ProfileFetching
        for event in events {
            switch event {
            case .message(let message):
                let result = try await services.inbound.record(
                    InboundMessage(channelId: channelId, externalId: message.externalId, aliasId: message.aliasId, displayName: message.displayName,
                                   phone: message.phone, providerMessageId: message.providerMessageId, providerTimestamp: message.timestamp,
                                   text: message.content.text, contentKind: message.content.kind, content: message.content.detailsJSON,
                                   profileLookup: looksUpProfiles, media: message.content.media),
                    workspaceId: stored.workspaceId, receivedAt: now)
                if result.stored && !message.content.media.isEmpty { services.mediaSignal.signal() }
                if result.stored { services.countInbound(channel: stored.kind.rawValue) }
                if result.stored && looksUpProfiles { services.profileSignal.signal() }
            case .status(let providerMessageId, let status, let reason, let code, let text):
                try await services.statusUpdater.apply(channelId: channelId, providerMessageId: providerMessageId, status: status,
                                                       reason: reason?.rawValue, code: code, text: text, at: now)
            case .revision(let revision):
                try await services.revisions.revise(channelId: channelId, providerMessageId: revision.providerMessageId, text: revision.text,
                                                    deleted: revision.deleted, at: revision.at, now: now)
            case .watermark(let externalId, let status, let upTo):
                try await services.statusUpdater.applyWatermark(channelId: channelId, externalId: externalId, status: status, upTo: upTo, at: now)
            }
        }
    }

    static func body(_ request: Request) async throws -> [UInt8] {
        do {
            return Array(buffer: try await request.body.collect(upTo: 1 << 20))
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "webhook bodies are limited to 1 MiB")
        }
    }

    static func response(_ reply: WebhookReply) -> Response {
        Response(status: .init(code: reply.status), headers: [.contentType: reply.contentType], body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }
}
