import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyStore

/// Connected channels. Credentials are accepted on create and update and never returned.
struct ChannelsController {
    let services: Services

    struct CreateChannelRequest: Decodable {
        let type: Choice<ChannelKind>
        let name: String
        let credentials: [String: String]?
        let apiBaseUrl: String?
        /// Check the credentials with the provider and register the webhook (default true).
        let verifyCredentials: Bool?
        /// A website chat channel's settings.
        let webchat: WebchatSettingsInput?
    }

    struct UpdateChannelRequest: Decodable {
        let name: String?
        let credentials: [String: String]?
        let apiBaseUrl: String?
        let commercialTermsAccepted: Bool?
        let webchat: WebchatSettingsInput?
        /// Viber: this month's chatbot-initiated count, corrected by an owner to match Viber's dashboard.
        let viberMonthCount: Int64?
        /// Distinguishes `"apiBaseUrl": null` (remove the override) from leaving it out.
        let clearsApiBaseUrl: Bool

        enum CodingKeys: String, CodingKey {
            case name, credentials, apiBaseUrl, commercialTermsAccepted, webchat, viberMonthCount
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeUnlessNull(String.self, forKey: .name)
            credentials = try container.decodeUnlessNull([String: String].self, forKey: .credentials)
            apiBaseUrl = try container.decodeIfPresent(String.self, forKey: .apiBaseUrl)
            commercialTermsAccepted = try container.decodeUnlessNull(Bool.self, forKey: .commercialTermsAccepted)
            clearsApiBaseUrl = container.contains(.apiBaseUrl) && apiBaseUrl == nil
            webchat = try container.decodeUnlessNull(WebchatSettingsInput.self, forKey: .webchat)
            viberMonthCount = try container.decodeUnlessNull(Int64.self, forKey: .viberMonthCount)
        }
    }

    /// A channel as the API shows it: no secrets, plus the URL the provider must call.
    struct ChannelResponse: Encodable, Sendable {
        let id: Int64
        let type: ChannelKind
        let name: String
        let apiBaseUrl: String?
        let credentialKeys: [String]
        let webhookUrl: String
        let viberMonth: String?
        let viberMonthCount: Int64
        let commercialTermsAccepted: Bool
        /// Website chat channels only.
        let webchat: WebchatView?
        let createdAt: Date
        let updatedAt: Date
    }

    func register(_ api: APIRoutes) {
        api.authenticated(.get, "/api/v1/channels", RouteDoc(summary: "Connected channels", tag: "channels", response: "ChannelPage",
                                                   query: [QueryParameter("cursor", Schema.string, "from nextCursor"), QueryParameter("limit", Schema.integer, "1 to 200, default 50")]),
                handler: list)
        api.authenticated(.post, "/api/v1/channels", RouteDoc(summary: "Connect a channel (owners and managers)", tag: "channels",
                                                    body: "CreateChannelRequest", response: "Channel", status: 201, errors: [403]), handler: create)
        api.authenticated(.get, "/api/v1/channels/{id}", RouteDoc(summary: "One channel, with its webhook URL", tag: "channels", response: "Channel", errors: [404]),
                handler: get)
        api.authenticated(.patch, "/api/v1/channels/{id}", RouteDoc(summary: "Rename, rotate credentials (merged; an empty value removes one), change apiBaseUrl; owners correct the Viber count",
                                                          tag: "channels", body: "UpdateChannelRequest", response: "Channel", errors: [403, 404]), handler: update)
        api.authenticated(.delete, "/api/v1/channels/{id}", RouteDoc(summary: "Disconnect a channel", tag: "channels", status: 204, errors: [403, 404]),
                handler: delete)
    }

    func present(_ channel: Channel, webchat: WebchatChannel? = nil, revealSecret: String? = nil) -> ChannelResponse {
        ChannelResponse(
            id: channel.id, type: channel.kind, name: channel.name, apiBaseUrl: channel.apiBaseUrl,
            credentialKeys: channel.credentialKeys,
            webhookUrl: "\(services.configuration.publicURL)/webhooks/\(channel.id)",
            viberMonth: channel.viberMonth, viberMonthCount: channel.viberMonthCount,
            commercialTermsAccepted: channel.commercialTermsAccepted,
            webchat: webchat.map { WebchatView($0, publicURL: services.configuration.publicURL, revealSecret: revealSecret) },
            createdAt: channel.createdAt, updatedAt: channel.updatedAt
        )
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<ChannelResponse>> {
        let identity = context.identity
        let limit = try Limit.parse(request.uri.queryParameters.get("limit"))
        let after = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 1)?.first
        let channels = try await services.channels.list(workspaceId: identity.user.workspaceId, afterId: after, limit: limit + 1)
        let webchats = try await services.webchat.find(channelIds: channels.filter { $0.kind == .webchat }.map(\.id), workspaceId: identity.user.workspaceId)
        return JSONResponse(Page(rows: channels, limit: limit, item: { present($0, webchat: webchats[$0.id]) }, cursor: { [$0.id] }))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ChannelResponse> {
        let identity = try context.requireAdministrator()
        let body = try await RequestDecoding.decode(CreateChannelRequest.self, from: request, context: context)
        let name = try Self.validName(body.name)
        let credentials = try Self.validCredentials(body.credentials ?? [:])
        let baseURL = try body.apiBaseUrl.map(Self.validBaseURL)
        if let baseURL { try await checkTarget(baseURL) }
        try await checkMailHosts(credentials)
        let adapter = services.channelRuntime.adapters[body.type.value]
        if body.webchat != nil, body.type.value != .webchat {
            throw APIError.badRequest("field 'webchat' is for website chat channels only", field: "webchat")
        }
        let webchat = body.type.value == .webchat ? try (body.webchat?.applied(to: WebchatSettings(allowedOrigins: []))
            ?? WebchatSettings(allowedOrigins: [])) : nil
        if let missing = adapter?.requiredCredentials.first(where: { (credentials[$0] ?? "").isEmpty }) {
            throw APIError.badRequest("a \(body.type.value.rawValue) channel needs the credential '\(missing)'", field: "credentials.\(missing)")
        }
        let channel = try await services.channels.create(workspaceId: identity.user.workspaceId, kind: body.type.value, name: name,
                                                         credentials: credentials, apiBaseUrl: baseURL, webchat: webchat, actorUserId: identity.user.id,
                                                         at: services.clock.now())
        if let adapter, body.verifyCredentials ?? true, let stored = try await services.channels.providerConfig(channelId: channel.id) {
            do {
                try await adapter.connect(channel: services.channelRuntime.config(stored, publicURL: services.configuration.publicURL),
                                          http: services.channelRuntime.http)
            } catch {
                // The provider refused: the channel is not kept.
                _ = try await services.channels.delete(id: channel.id, workspaceId: identity.user.workspaceId, actorUserId: identity.user.id,
                                                       at: services.clock.now())
                let config = services.channelRuntime.config(stored, publicURL: services.configuration.publicURL)
                throw APIError.unprocessable("connect_failed", config.redacting("\(error)"), field: "credentials")
            }
        }
        let settings = try await services.webchat.find(channelId: channel.id, workspaceId: identity.user.workspaceId)
        return JSONResponse(present(channel, webchat: settings, revealSecret: settings?.identitySecret), status: .created)
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ChannelResponse> {
        let identity = context.identity
        let id = try context.id("id", what: "channel")
        guard let channel = try await services.channels.find(id: id, workspaceId: identity.user.workspaceId) else {
            throw APIError.notFound("channel")
        }
        return JSONResponse(present(channel, webchat: try await services.webchat.find(channelId: id, workspaceId: identity.user.workspaceId)))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ChannelResponse> {
        let identity = try context.requireAdministrator()
        let id = try context.id("id", what: "channel")
        let body = try await RequestDecoding.decode(UpdateChannelRequest.self, from: request, context: context)
        // Checked before anything changes: a refused count leaves the other fields alone too.
        if let count = body.viberMonthCount {
            try await checkViberCount(count, channelId: id, identity: identity)
        }
        if let baseURL = body.apiBaseUrl { try await checkTarget(try Self.validBaseURL(baseURL)) }
        if let credentials = body.credentials { try await checkMailHosts(credentials) }
        let change = ChannelRepository.Update(
            name: try body.name.map(Self.validName),
            credentials: try body.credentials.map { try Self.validCredentials($0, allowEmptyValues: true) },
            apiBaseUrl: body.clearsApiBaseUrl ? .some(nil) : try body.apiBaseUrl.map { .some(try Self.validBaseURL($0)) },
            commercialTermsAccepted: body.commercialTermsAccepted
        )
        var webchat = try await services.webchat.find(channelId: id, workspaceId: identity.user.workspaceId)
        if let input = body.webchat {
            guard let current = webchat else { throw APIError.badRequest("field 'webchat' is for website chat channels only", field: "webchat") }
            let settings = try input.applied(to: current.settings)
            _ = try await services.webchat.update(channelId: id, workspaceId: identity.user.workspaceId, settings: settings,
                                                  actorUserId: identity.user.id, at: services.clock.now())
            webchat = try await services.webchat.find(channelId: id, workspaceId: identity.user.workspaceId)
        }
        guard var channel = try await services.channels.update(id: id, workspaceId: identity.user.workspaceId, change,
                                                               actorUserId: identity.user.id, at: services.clock.now()) else {
            throw APIError.notFound("channel")
        }
        if let count = body.viberMonthCount {
            let now = services.clock.now()
            channel = try await services.channels.setViberMonthCount(id: id, workspaceId: identity.user.workspaceId, count: count,
                                                                     month: WindowPolicy.utcMonth(now), actorUserId: identity.user.id, at: now) ?? channel
        }
        return JSONResponse(present(channel, webchat: webchat))
    }

    /// Only an owner corrects the Viber count, only on a Viber channel, only to a count Viber could report.
    func checkViberCount(_ count: Int64, channelId: Int64, identity: Identity) async throws {
        guard identity.user.role == .owner else { throw APIError.forbidden("only owners may correct the Viber count") }
        guard (0...10_000_000).contains(count) else {
            throw APIError.badRequest("field 'viberMonthCount' must be 0 to 10000000", field: "viberMonthCount")
        }
        guard let channel = try await services.channels.find(id: channelId, workspaceId: identity.user.workspaceId) else {
            throw APIError.notFound("channel")
        }
        guard channel.kind == .viber else {
            throw APIError.badRequest("field 'viberMonthCount' applies to Viber channels only", field: "viberMonthCount")
        }
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = try context.requireAdministrator()
        let id = try context.id("id", what: "channel")
        guard try await services.channels.delete(id: id, workspaceId: identity.user.workspaceId, actorUserId: identity.user.id,
                                                 at: services.clock.now()) else {
            throw APIError.notFound("channel")
        }
        return Response(status: .noContent)
    }

    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else { throw APIError.badRequest("field 'name' must be 1 to 100 characters", field: "name") }
        return name
    }

    static func validCredentials(_ raw: [String: String], allowEmptyValues: Bool = false) throws -> [String: String] {
        guard raw.count <= 20 else { throw APIError.badRequest("field 'credentials' may hold at most 20 entries", field: "credentials") }
        for (key, value) in raw {
            guard (1...64).contains(key.count), key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw APIError.badRequest("credential names must be 1 to 64 letters, digits or underscores", field: "credentials")
            }
            guard value.count <= 4096, allowEmptyValues || !value.isEmpty else {
                throw APIError.badRequest("field 'credentials.\(key)' must be 1 to 4096 characters", field: "credentials.\(key)")
            }
        }
        return raw
    }

    /// A base URL the server may connect to: public, unless started with `--allow-private-targets`.
    func checkTarget(_ url: String) async throws {
        do {
            try await services.networkTargets.check(url: url)
        } catch {
            throw APIError.badRequest("field 'apiBaseUrl' is refused: \(error.description)", field: "apiBaseUrl")
        }
    }

    /// An email channel's SMTP and IMAP servers are outbound targets too.
    func checkMailHosts(_ credentials: [String: String]) async throws {
        for key in ["smtpHost", "imapHost"] {
            guard let host = credentials[key]?.trimmingCharacters(in: .whitespaces), !host.isEmpty else { continue }
            do {
                try await services.networkTargets.check(host: host)
            } catch {
                throw APIError.badRequest("field 'credentials.\(key)' is refused: \(error.description)", field: "credentials.\(key)")
            }
        }
    }

    static func validBaseURL(_ raw: String) throws -> String {
        guard let url = URLComponents(string: raw), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else {
            throw APIError.badRequest("field 'apiBaseUrl' must be an http or https URL without query", field: "apiBaseUrl")
        }
        return raw.trimmingTrailingSlash
    }
}
