import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyStore

/// Sending messages and the composer state that says what may be sent. Messages sent with a
/// login session come from a human agent; with an API token, from an automation (workflow),
/// which the window rules treat differently (no HUMAN_AGENT).
struct MessagesController {
    let services: Services

    struct SendBody: Decodable {
        struct Template: Decodable {
            let name: String
            let language: String
            let parameters: [String]?
        }

        let channelId: Int64
        let text: String?
        let tag: Choice<MessageTag>?
        let template: Template?
        /// Email channels only.
        let subject: String?
        /// Files uploaded with `POST /api/v1/attachments`; the text, if any, is their caption.
        let attachmentIds: [Int64]?
        /// `when_contact_writes`: if the window forbids sending now, queue the message.
        let deliver: Choice<DeliverWhen>?
        /// A queued message is given up at this time (ISO 8601; default in 30 days).
        let queueExpiresAt: String?
    }

    enum DeliverWhen: String, CaseIterable, Sendable {
        case now
        case whenContactWrites = "when_contact_writes"
    }

    struct SendResponse: Encodable, Sendable {
        let message: Message
        let conversation: Conversation?
        /// True when the message was queued until the contact writes (its status is `scheduled`).
        let queued: Bool
    }

    struct TemplateBodyRequest: Decodable {
        let name: String
        let language: String
        let category: Choice<TemplateCategory>
        let body: String
        let status: Choice<TemplateStatus>?
    }

    static let maxTextLength = 4096

    func register(_ api: APIRoutes) {
        api.authenticated(.get, "/api/v1/contacts/{id}/composer", RouteDoc(
            summary: "What may be sent to the contact on a channel now: window, allowed modes, tags, quotas, and why", tag: "messages",
            response: "ComposerState", query: [QueryParameter("channel", Schema.integer, "channel id (required)")], errors: [404, 422]), handler: composer)
        api.authenticated(.post, "/api/v1/contacts/{id}/messages", RouteDoc(
            summary: "Send a message: {channelId,text} | {channelId,template:{name,language,parameters}} | {channelId,text,tag}, with optional attachmentIds (one uploaded file; the text is its caption). Reopens a closed conversation and assigns it to the sender.",
            tag: "messages", body: "SendMessageRequest", response: "SendMessageResponse", status: 201, errors: [404, 409, 422]), handler: send)
        api.authenticated(.get, "/api/v1/channels/{id}/templates", RouteDoc(summary: "The channel's WhatsApp message templates", tag: "channels",
                                                                  response: "TemplatePage", errors: [404]), handler: listTemplates)
        api.authenticated(.post, "/api/v1/channels/{id}/templates", RouteDoc(
            summary: "Add or replace a WhatsApp template by name and language (owners and managers; provider sync replaces these)", tag: "channels",
            body: "TemplateInput", response: "Template", status: 201, errors: [403, 404, 422]), handler: createTemplate)
        api.authenticated(.post, "/api/v1/channels/{id}/templates/sync", RouteDoc(
            summary: "Fetch the WhatsApp Business Account's templates from the provider and store them (owners and managers; needs the wabaId credential)",
            tag: "channels", response: "TemplatePage", errors: [403, 404, 422, 502]), handler: syncTemplates)
    }

    func senderKind(_ identity: Identity) -> SenderKind {
        identity.token.kind == .session ? .user : .workflow
    }

    @Sendable func composer(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ComposerState> {
        let identity = context.identity
        let contactId = try await context.visibleContact(services)
        guard let raw = request.uri.queryParameters.get("channel") else {
            throw APIError.badRequest("query parameter 'channel' is required", field: "channel")
        }
        guard let channelId = Int64(raw) else { throw APIError.badRequest("query parameter 'channel' must be an id", field: "channel") }
        return JSONResponse(try await mapped {
            try await services.outbound.composer(contactId: contactId, channelId: channelId, workspaceId: identity.user.workspaceId,
                                                 sender: senderKind(identity), at: services.clock.now())
        })
    }

    @Sendable func send(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<SendResponse> {
        let identity = context.identity
        let contactId = try await context.visibleContact(services)
        let body = try await RequestDecoding.decode(SendBody.self, from: request, context: context)
        let content: OutboundContent
        let attachments = body.attachmentIds ?? []
        // A file alone is a message with empty text, unless it fills a template's header.
        switch (body.text ?? (attachments.isEmpty || body.template != nil ? nil : ""), body.template, body.tag) {
        case (let text?, nil, let tag):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty || !attachments.isEmpty else { throw APIError.badRequest("field 'text' must not be empty", field: "text") }
            guard text.count <= Self.maxTextLength else {
                throw APIError.badRequest("field 'text' must be at most \(Self.maxTextLength) characters", field: "text")
            }
            content = tag.map { .tagged(text: text, tag: $0.value) } ?? .text(text)
        case (nil, let template?, nil):
            guard !template.name.isEmpty else { throw APIError.badRequest("field 'template.name' must not be empty", field: "template.name") }
            guard !template.language.isEmpty else { throw APIError.badRequest("field 'template.language' must not be empty", field: "template.language") }
            content = .template(name: template.name, language: template.language, parameters: template.parameters ?? [])
        case (nil, nil, _):
            throw APIError.badRequest("send either 'text' or 'template'", field: "text")
        default:
            throw APIError.badRequest("'template' cannot be combined with 'text' or 'tag'", field: "template")
        }
        var outbound = OutboundRequest(workspaceId: identity.user.workspaceId, contactId: contactId, channelId: body.channelId,
                                       sender: senderKind(identity), senderUserId: identity.user.id, content: content)
        outbound.subject = try await subject(body, workspaceId: identity.user.workspaceId)
        outbound.attachmentIds = attachments
        let now = services.clock.now()
        if body.deliver?.value == .whenContactWrites {
            outbound.queueUntil = try Self.queueExpiry(body.queueExpiresAt, now: now)
        } else if body.queueExpiresAt != nil {
            throw APIError.badRequest("field 'queueExpiresAt' goes with \"deliver\": \"when_contact_writes\"", field: "queueExpiresAt")
        }
        let result = try await mapped { try await services.outbound.send(outbound, at: now) }
        return JSONResponse(SendResponse(message: result.message, conversation: result.conversation, queued: result.message.status == .scheduled),
                            status: .created)
    }

    /// When a queued message is given up: the time asked for (in the future, within a year), or
    /// 30 days from now.
    static func queueExpiry(_ raw: String?, now: Date) throws -> Date {
        guard let raw else { return now.addingTimeInterval(MessageQueue.defaultLifetime) }
        guard let date = Self.parseDate(raw) else {
            throw APIError.badRequest("field 'queueExpiresAt' must be an ISO 8601 date-time", field: "queueExpiresAt")
        }
        guard date > now, date.timeIntervalSince(now) <= MessageQueue.maximumLifetime else {
            throw APIError.badRequest("field 'queueExpiresAt' must be in the future and at most a year away", field: "queueExpiresAt")
        }
        return date
    }

    static func parseDate(_ raw: String) -> Date? {
        (try? Date(raw, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(raw, strategy: Date.ISO8601FormatStyle()))
    }

    /// An email's subject: one line of at most 200 characters, on an email channel only.
    func subject(_ body: SendBody, workspaceId: Int64) async throws -> String? {
        guard let raw = body.subject else { return nil }
        let subject = raw.trimmingCharacters(in: .whitespaces)
        guard subject.count <= 200, !subject.contains(where: \.isNewline) else {
            throw APIError.badRequest("field 'subject' must be one line of at most 200 characters", field: "subject")
        }
        guard try await services.channels.find(id: body.channelId, workspaceId: workspaceId)?.kind == .email else {
            throw APIError.badRequest("field 'subject' is for email channels only", field: "subject")
        }
        return subject.isEmpty ? nil : subject
    }

    /// Maps refusals and unknowns to the API's errors.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as OutboundError {
            switch error {
            case .contactNotFound:
                throw APIError.notFound("contact")
            case .unknownChannel:
                throw APIError.unprocessable("unknown_channel", "no such channel in this workspace", field: "channelId")
            case .noIdentity(let kind):
                throw APIError.unprocessable("no_identity", "the contact has no \(kind.rawValue) identity on this channel", field: "channelId")
            case .unknownTemplate(let name, let language):
                throw APIError.unprocessable("unknown_template", "no template '\(name)' in language '\(language)' on this channel", field: "template.name")
            case .templateNotApproved(let status):
                throw APIError.unprocessable("template_not_approved", "the template's status is \(status.rawValue); only APPROVED templates can be sent", field: "template.name")
            case .templateParameters(let expected, let given):
                throw APIError.unprocessable("template_parameters", "the template takes \(expected) parameters, \(given) given", field: "template.parameters")
            case .emptyTemplateParameter(let index):
                throw APIError.unprocessable("template_parameters", "parameter \(index + 1) is empty", field: "template.parameters[\(index)]")
            case .refused(let refusal):
                throw APIError(.conflict, code: refusal.code.rawValue, message: refusal.message)
            case .attachment(let why):
                throw APIError.unprocessable("attachment_refused", why, field: "attachmentIds")
            case .notQueued:
                throw APIError(.conflict, code: "not_queued", message: "only the author of a queued message can change it, and only while it is queued")
            case .invalidEdit(let why):
                throw APIError.unprocessable("invalid_edit", why, field: "text")
            }
        }
    }

    @Sendable func listTemplates(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<MessageTemplate>> {
        let identity = context.identity
        let channelId = try context.id("id", what: "channel")
        guard try await services.channels.find(id: channelId, workspaceId: identity.user.workspaceId) != nil else { throw APIError.notFound("channel") }
        return JSONResponse(Page(items: try await services.templates.list(channelId: channelId, workspaceId: identity.user.workspaceId), nextCursor: nil))
    }

    @Sendable func syncTemplates(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<MessageTemplate>> {
        let identity = try context.requireAdministrator()
        let channelId = try context.id("id", what: "channel")
        guard let stored = try await services.channels.providerConfig(channelId: channelId), stored.workspaceId == identity.user.workspaceId else {
            throw APIError.notFound("channel")
        }
        guard stored.kind == .whatsapp else { throw APIError.unprocessable("templates_not_supported", "message templates are for WhatsApp channels") }
        let config = services.channelRuntime.config(stored, publicURL: services.configuration.publicURL)
        let fetched: [FetchedTemplate]
        do {
            fetched = try await WhatsAppAdapter().fetchTemplates(channel: config, http: services.channelRuntime.http)
        } catch ChannelError.missingCredential(let name) {
            throw APIError.unprocessable("missing_credential", "the channel needs the credential '\(name)' to list templates", field: "credentials.\(name)")
        } catch {
            throw APIError(.badGateway, code: "provider_unavailable", message: "\(error)")
        }
        let now = services.clock.now()
        for template in fetched {
            _ = try await services.templates.upsert(workspaceId: stored.workspaceId, channelId: channelId, name: template.name, language: template.language,
                                                    category: template.category, status: template.status, body: template.body,
                                                    providerTemplateId: template.providerId, at: now)
        }
        return JSONResponse(Page(items: try await services.templates.list(channelId: channelId, workspaceId: stored.workspaceId), nextCursor: nil))
    }

    @Sendable func createTemplate(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<MessageTemplate> {
        let identity = try context.requireAdministrator()
        let channelId = try context.id("id", what: "channel")
        let body = try await RequestDecoding.decode(TemplateBodyRequest.self, from: request, context: context)
        guard let channel = try await services.channels.find(id: channelId, workspaceId: identity.user.workspaceId) else { throw APIError.notFound("channel") }
        guard channel.kind == .whatsapp else {
            throw APIError.unprocessable("templates_not_supported", "message templates are for WhatsApp channels")
        }
        guard (1...512).contains(body.name.count), body.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw APIError.badRequest("field 'name' must be lowercase letters, digits and underscores", field: "name")
        }
        guard (2...15).contains(body.language.count) else { throw APIError.badRequest("field 'language' must be a code such as en_US", field: "language") }
        guard (1...1024).contains(body.body.count) else { throw APIError.badRequest("field 'body' must be 1 to 1024 characters", field: "body") }
        let template = try await services.templates.upsert(
            workspaceId: identity.user.workspaceId, channelId: channelId, name: body.name, language: body.language, category: body.category.value,
            status: body.status?.value ?? .approved, body: body.body, providerTemplateId: nil, at: services.clock.now()
        )
        return JSONResponse(template, status: .created)
    }
}
