import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyStore

/// The website chat widget's own routes: a visitor's session, history and messages. They are
/// public (visitors have no account): each call carries the visitor's signed token in
/// `X-Parley-Visitor` and the embedding site's origin in `X-Parley-Host`, which must be one of
/// the channel's allowed sites. Browsers call them only from Parley's own frame.
struct WidgetController {
    let services: Services

    static let visitorHeader = HTTPField.Name("X-Parley-Visitor")!
    static let hostHeader = HTTPField.Name("X-Parley-Host")!
    static let maxTextLength = MessagesController.maxTextLength
    static let historyPage = 50

    struct SessionRequest: Decodable {
        let channel: String
        let token: String?
        let user: UserClaim?

        struct UserClaim: Decodable {
            let identifier: String
            let identifierHash: String?
            let name: String?
            let email: String?
        }
    }

    struct VisitorView: Encodable, Sendable {
        let verified: Bool
        /// The visitor has written before (the pre-chat form is not needed again).
        let known: Bool
        let name: String?
        let email: String?
    }

    struct SessionResponse: Encodable, Sendable {
        let token: String
        let visitor: VisitorView
        /// The latest messages, oldest first.
        let messages: [VisitorMessage]
        let hasMore: Bool
        /// The team's messages the visitor has not read.
        let unread: Int
        let offline: Bool
    }

    struct MessageRequest: Decodable {
        let text: String
        /// The widget's id for this message: a retried send is stored once.
        let clientId: String?
        /// From the pre-chat form, with the first message.
        let name: String?
        let email: String?
        /// A file uploaded with `POST /widget/v1/attachments`; the text is then optional.
        let attachmentIds: [Int64]?
    }

    func register(_ api: APIRoutes) {
        let visitorAuth = "Needs X-Parley-Visitor (the token from POST /widget/v1/session) and X-Parley-Host (the embedding page's origin)"
        api.add(.post, "/widget/v1/session", RouteDoc(
            summary: "Start or resume a website chat visitor: a signed token, the visitor's latest messages and unread count. "
                + "With user.identifier and user.identifierHash (hex HMAC-SHA256 of the identifier with the channel's identity secret) the visitor is verified.",
            tag: "widget", authenticated: false, body: "WidgetSessionRequest", response: "WidgetSession", errors: [403, 404, 429]), handler: session)
        api.add(.get, "/widget/v1/messages", RouteDoc(summary: "A visitor's earlier messages, newest first. " + visitorAuth,
                                                     tag: "widget", authenticated: false, response: "WidgetMessagePage",
                                                     query: [QueryParameter("cursor", Schema.string, "from nextCursor")], errors: [401, 403, 429]),
                handler: history)
        api.add(.post, "/widget/v1/messages", RouteDoc(summary: "A visitor writes; the first message makes them a contact. " + visitorAuth,
                                                      tag: "widget", authenticated: false, body: "WidgetMessageRequest", response: "WidgetMessage",
                                                      status: 201, alternateStatus: 200, errors: [401, 403, 429]), handler: send)
        registerAttachments(api, visitorAuth: visitorAuth)
    }

    // MARK: Handlers

    @Sendable func session(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SessionResponse> {
        try limit(WidgetRateLimiter.address, key: "ip|\(context.clientAddress)")
        let body = try await RequestDecoding.decode(SessionRequest.self, from: request, context: context)
        guard body.channel.count <= 100, let channel = try await services.webchat.find(publicKey: body.channel) else {
            throw APIError(.notFound, code: "channel_not_found", message: "no website chat channel has this key", field: "channel")
        }
        try checkOrigins(request, channel: channel)
        let previous = body.token.flatMap { VisitorToken.verify($0, channel: channel) }
        var token: VisitorToken
        if let user = body.user {
            token = try verifiedToken(user, channel: channel)
            if let previous, !previous.verified {
                // A visitor who signs in on the site keeps the conversation they started anonymously.
                _ = try await services.webchat.adopt(channelId: channel.channelId, from: previous.externalId, to: token.externalId)
            }
        } else if let previous {
            token = previous
        } else {
            try limit(WidgetRateLimiter.newVisitors, key: "new|\(context.clientAddress)")
            token = VisitorToken.anonymous(channelId: channel.channelId)
        }
        let visitor = try await services.webchat.visitor(channelId: channel.channelId, externalId: token.externalId)
        var contact = try await visitor.asyncMap { try await services.contacts.find(id: $0.contactId, workspaceId: channel.workspaceId) }
        if let user = body.user, let found = contact {
            contact = try await updateProfile(found, name: user.name, email: user.email, overwrite: true) ?? found
        }
        let page = try await visitor.asyncMap { try await services.webchat.history(identityId: $0.identityId, beforeId: nil, limit: Self.historyPage + 1) } ?? []
        let messages = try await present(Array(page.prefix(Self.historyPage)), workspaceId: channel.workspaceId)
        let unread = try await visitor.asyncMap { try await services.webchat.unreadCount(identityId: $0.identityId) } ?? 0
        let name = contact.map { "\($0.firstName) \($0.lastName)".trimmingCharacters(in: .whitespaces) } ?? body.user?.name
        return JSONResponse(SessionResponse(
            token: token.signed(by: channel),
            visitor: VisitorView(verified: token.verified, known: visitor != nil, name: name?.isEmpty == false ? name : nil,
                                 email: contact?.email ?? body.user?.email),
            messages: messages.reversed(), hasMore: page.count > Self.historyPage, unread: unread,
            offline: channel.settings.isOffline(at: services.clock.now())))
    }

    @Sendable func history(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VisitorMessage>> {
        try limit(WidgetRateLimiter.address, key: "ip|\(context.clientAddress)")
        let (channel, token) = try await authenticate(request)
        let before = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 1)?.first
        guard let visitor = try await services.webchat.visitor(channelId: channel.channelId, externalId: token.externalId) else {
            return JSONResponse(Page(items: [], nextCursor: nil))
        }
        let rows = try await services.webchat.history(identityId: visitor.identityId, beforeId: before, limit: Self.historyPage + 1)
        let items = try await present(Array(rows.prefix(Self.historyPage)), workspaceId: channel.workspaceId)
        return JSONResponse(Page(items: items, nextCursor: rows.count > Self.historyPage ? items.last.map { Cursor.encode([$0.id]) } : nil))
    }

    @Sendable func send(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VisitorMessage> {
        try limit(WidgetRateLimiter.address, key: "ip|\(context.clientAddress)")
        let (channel, token) = try await authenticate(request)
        try limit(WidgetRateLimiter.visitorMessages, key: "visitor|\(channel.channelId)|\(token.externalId)")
        let body = try await RequestDecoding.decode(MessageRequest.self, from: request, context: context)
        var text = body.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let uploads = try await checkedUploads(body.attachmentIds ?? [], channel: channel, token: token)
        if text.isEmpty, let first = uploads.first { text = "[\(first.attachment.kind.rawValue)] \(first.attachment.fileName)" }
        guard !text.isEmpty else { throw APIError.badRequest("field 'text' must not be empty", field: "text") }
        guard text.count <= Self.maxTextLength else {
            throw APIError.badRequest("field 'text' must be at most \(Self.maxTextLength) characters", field: "text")
        }
        if let clientId = body.clientId {
            guard (1...64).contains(clientId.count), clientId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw APIError.badRequest("field 'clientId' must be 1 to 64 letters, digits or dashes", field: "clientId")
            }
        }
        let name = try body.name.map { try Self.validName($0) }.flatMap { $0.isEmpty ? nil : $0 }
        let email = try body.email.map { try Self.validEmail($0) }.flatMap { $0.isEmpty ? nil : $0 }
        var profile = ContactFields()
        if let email { profile.email = .some(email) }
        var inbound = InboundMessage(channelId: channel.channelId, externalId: token.externalId, displayName: name,
                                     providerMessageId: "web-" + (body.clientId ?? UUID().uuidString.lowercased()),
                                     providerTimestamp: services.clock.now(), text: text, profile: profile)
        inbound.uploads = uploads.map(\.attachment.id)
        let result = try await services.inbound.record(inbound, workspaceId: channel.workspaceId, receivedAt: services.clock.now())
        if result.stored { services.countInbound(channel: "webchat") }
        if result.stored, name != nil || email != nil,
           let contact = try await services.contacts.find(id: result.contactId, workspaceId: channel.workspaceId) {
            _ = try await updateProfile(contact, name: name, email: email, overwrite: false)
        }
        guard let message = try await services.timeline.messages(ids: [result.messageId], workspaceId: channel.workspaceId)[result.messageId] else {
            throw APIError.notFound("message")
        }
        return JSONResponse(VisitorMessage(message, names: [:], now: services.clock.now()), status: result.stored ? .created : .ok)
    }

    // MARK: Checks

    /// The visitor's channel and token, or a 401; then the origin checks.
    func authenticate(_ request: Request) async throws -> (WebchatChannel, VisitorToken) {
        let invalid = APIError(.unauthorized, code: "invalid_visitor_token", message: "X-Parley-Visitor must hold a token from POST /widget/v1/session")
        guard let raw = request.headers[Self.visitorHeader], let channelId = VisitorToken.claimedChannel(raw),
              let channel = try await services.webchat.find(channelId: channelId),
              let token = VisitorToken.verify(raw, channel: channel) else { throw invalid }
        try checkOrigins(request, channel: channel)
        return (channel, token)
    }

    /// A browser may call the widget's routes only from Parley's own frame, and the frame only
    /// from a site the channel allows (the frame's CSP enforces the same in the browser).
    func checkOrigins(_ request: Request, channel: WebchatChannel) throws {
        if Self.fromForeignPage(request, publicURL: services.configuration.publicURL) {
            throw APIError(.forbidden, code: "origin_not_allowed", message: "the widget's routes are called from Parley's own frame only")
        }
        try Self.checkHost(request.headers[Self.hostHeader], channel: channel, publicURL: services.configuration.publicURL)
    }

    /// Whether a browser sent the request from a page that is not Parley's own. Only pages
    /// have http(s) origins; other clients (which can claim any origin anyway) are judged by
    /// their token alone.
    static func fromForeignPage(_ request: Request, publicURL: String) -> Bool {
        guard let origin = request.headers[.origin]?.lowercased(), origin.hasPrefix("http://") || origin.hasPrefix("https://") else { return false }
        return !EventsController.sameOrigin(request, publicURL: publicURL)
    }

    /// Whether `host` (the embedding page's origin) may embed the channel: one of its allowed
    /// sites, or Parley itself (the settings' preview).
    static func checkHost(_ host: String?, channel: WebchatChannel, publicURL: String) throws {
        guard let raw = host, let origin = WebchatSettings.normalizedOrigin(raw) else {
            throw APIError(.forbidden, code: "origin_not_allowed", message: "X-Parley-Host must name the origin of the page showing the widget")
        }
        guard channel.settings.allowedOrigins.contains(origin) || origin == WebchatSettings.normalizedOrigin(publicURL) else {
            throw APIError(.forbidden, code: "origin_not_allowed",
                           message: "\(origin) may not embed this chat: add it to the channel's allowed sites")
        }
    }

    func verifiedToken(_ user: SessionRequest.UserClaim, channel: WebchatChannel) throws -> VisitorToken {
        guard (1...200).contains(user.identifier.count), !user.identifier.contains(where: \.isNewline) else {
            throw APIError.badRequest("field 'user.identifier' must be 1 to 200 characters on one line", field: "user.identifier")
        }
        guard let hash = user.identifierHash, VisitorToken.identifierMatches(user.identifier, hash: hash, channel: channel) else {
            throw APIError(.forbidden, code: "identity_mismatch",
                           message: "user.identifierHash is not the HMAC-SHA256 of user.identifier with this channel's identity secret", field: "user.identifierHash")
        }
        return VisitorToken.verified(channelId: channel.channelId, identifier: user.identifier)
    }

    func limit(_ limit: WidgetRateLimiter.Limit, key: String) throws {
        if let wait = services.widgetLimits.take(key, limit, now: services.clock.now()) {
            var error = APIError(.tooManyRequests, code: "rate_limited", message: "too many requests; try again in \(Int(wait.rounded(.up))) s")
            error.headers[.retryAfter] = String(Int(wait.rounded(.up)))
            throw error
        }
    }

    // MARK: Helpers

    func present(_ messages: [Message], workspaceId: Int64) async throws -> [VisitorMessage] {
        let names = try await services.users.names(ids: Array(Set(messages.compactMap(\.senderUserId))), workspaceId: workspaceId)
        return messages.map { VisitorMessage($0, names: names, now: services.clock.now()) }
    }

    /// Fills (or, for a verified user's site, replaces) the contact's name and email.
    func updateProfile(_ contact: Contact, name: String?, email: String?, overwrite: Bool) async throws -> Contact? {
        var fields = ContactFields()
        if let name, overwrite || (contact.firstName.isEmpty && contact.lastName.isEmpty) {
            let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.first != contact.firstName || (parts.count > 1 ? parts[1] : "") != contact.lastName {
                fields.firstName = parts.first ?? ""
                fields.lastName = parts.count > 1 ? parts[1] : ""
            }
        }
        if let email, email != contact.email, overwrite || contact.email == nil { fields.email = .some(email) }
        guard fields != ContactFields() else { return nil }
        return try await services.contacts.update(id: contact.id, workspaceId: contact.workspaceId, fields: fields, actorUserId: nil, at: services.clock.now())
    }

    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.count <= ContactRules.maxNameLength else {
            throw APIError.badRequest("field 'name' must be at most \(ContactRules.maxNameLength) characters", field: "name")
        }
        return name
    }

    static func validEmail(_ raw: String) throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard email.isEmpty || Validation.isPlausibleEmail(email) else { throw APIError.badRequest("field 'email' is not an email address", field: "email") }
        return email
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
