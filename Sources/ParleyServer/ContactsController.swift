import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Contacts, their channel identities, and the workspace's custom field definitions.
struct ContactsController {
    let services: Services

    /// A contact's writable fields. A field left out is unchanged; `null` clears it.
    struct ContactBody: Decodable {
        var fields = ContactFields()

        enum CodingKeys: String, CodingKey {
            case firstName, lastName, email, phone, language, country, tags, customFields
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            fields.firstName = try container.decodeIfPresent(String.self, forKey: .firstName)
            fields.lastName = try container.decodeIfPresent(String.self, forKey: .lastName)
            fields.email = try Self.nullable(container, .email)
            fields.phone = try Self.nullable(container, .phone)
            fields.language = try Self.nullable(container, .language)
            fields.country = try Self.nullable(container, .country)
            fields.tags = try container.decodeIfPresent([String].self, forKey: .tags)
            fields.customFields = try container.decodeIfPresent([String: CustomFieldValue?].self, forKey: .customFields)
        }

        static func nullable(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> String?? {
            guard container.contains(key) else { return nil }
            return .some(try container.decodeIfPresent(String.self, forKey: key))
        }
    }

    struct IdentityBody: Decodable {
        let channelId: Int64
        let externalId: String
        let displayName: String?
    }

    struct CustomFieldBody: Decodable {
        let key: String
        let label: String
        let type: Choice<CustomFieldType>
        let options: [String]?
    }

    /// A contact as the API shows it.
    struct ContactResponse: Encodable, Sendable {
        let id: Int64
        let name: String
        let firstName: String
        let lastName: String
        let email: String?
        let phone: String?
        let language: String?
        let country: String?
        let tags: [String]
        let customFields: [String: CustomFieldValue]
        let identities: [ContactIdentity]
        let createdAt: Date
        let updatedAt: Date

        init(_ contact: Contact) {
            id = contact.id
            name = contact.displayName
            firstName = contact.firstName
            lastName = contact.lastName
            email = contact.email
            phone = contact.phone
            language = contact.language
            country = contact.country
            tags = contact.tags
            customFields = contact.customFields
            identities = contact.identities
            createdAt = contact.createdAt
            updatedAt = contact.updatedAt
        }
    }

    func register(_ api: APIRoutes) {
        api.authenticated(.get, "/api/v1/contacts", RouteDoc(summary: "Contacts, newest first; q searches names and phone digits (partial) and email and custom text fields (exact)",
                                                   tag: "contacts", response: "ContactPage",
                                                   query: [QueryParameter("q", Schema.string, "search text"), QueryParameter("cursor", Schema.string, "from nextCursor"),
                                                           QueryParameter("limit", Schema.integer, "1 to 200, default 50")]), handler: list)
        api.authenticated(.post, "/api/v1/contacts", RouteDoc(summary: "Create a contact", tag: "contacts", body: "ContactInput", response: "Contact", status: 201), handler: create)
        api.authenticated(.get, "/api/v1/contacts/{id}", RouteDoc(summary: "One contact", tag: "contacts", response: "Contact", errors: [404]), handler: get)
        api.authenticated(.patch, "/api/v1/contacts/{id}", RouteDoc(summary: "Change a contact (fields left out are kept; null clears)", tag: "contacts",
                                                          body: "ContactInput", response: "Contact", errors: [404]), handler: update)
        api.authenticated(.delete, "/api/v1/contacts/{id}", RouteDoc(summary: "Delete a contact and its history (owners and managers)", tag: "contacts",
                                                           status: 204, errors: [403, 404]), handler: delete)
        api.authenticated(.post, "/api/v1/contacts/{id}/identities", RouteDoc(summary: "Add a channel identity (e.g. a WhatsApp number) to a contact", tag: "contacts",
                                                                    body: "IdentityInput", response: "Contact", status: 201, errors: [404, 409, 422]), handler: addIdentity)
        api.authenticated(.delete, "/api/v1/contacts/{id}/identities/{identityId}", RouteDoc(summary: "Remove a channel identity", tag: "contacts", status: 204, errors: [404]),
                handler: removeIdentity)
        api.authenticated(.get, "/api/v1/custom-fields", RouteDoc(summary: "Custom contact field definitions", tag: "contacts", response: "CustomFieldPage"), handler: listFields)
        api.authenticated(.post, "/api/v1/custom-fields", RouteDoc(summary: "Define a custom contact field (owners and managers)", tag: "contacts",
                                                         body: "CustomField", response: "CustomField", status: 201, errors: [403, 409]), handler: createField)
        api.authenticated(.delete, "/api/v1/custom-fields/{key}", RouteDoc(summary: "Remove a custom field definition (owners and managers)", tag: "contacts",
                                                                 status: 204, errors: [403, 404]), handler: deleteField)
    }

    /// Cleans the fields and types custom values by the workspace's definitions, or a 400 naming the field.
    func validated(_ fields: ContactFields, workspaceId: Int64) async throws -> ContactFields {
        var cleaned: ContactFields
        switch ContactRules.clean(fields) {
        case .success(let value): cleaned = value
        case .failure(let failure): throw APIError.badRequest("field '\(failure.field)' \(failure.message)", field: failure.field)
        }
        if let custom = fields.customFields {
            let definitions = try await services.customFields.list(workspaceId: workspaceId)
            switch CustomFieldValidation.validate(custom, definitions: definitions) {
            case .success(let typed): cleaned.customFields = typed
            case .failure(let failure): throw APIError.badRequest("field '\(failure.field)' \(failure.message)", field: failure.field)
            }
        }
        return cleaned
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<ContactResponse>> {
        let identity = context.identity
        let limit = try Limit.parse(request.uri.queryParameters.get("limit"))
        let before = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 1)?.first
        let query = FormQuery.value("q", in: request.uri.query).flatMap(ContactSearchQuery.init)
        let contacts = try await services.contacts.list(workspaceId: identity.user.workspaceId, query: query, beforeId: before, limit: limit + 1,
                                                        visibleTo: try await context.restrictedContactViewer(services))
        return JSONResponse(Page(rows: contacts, limit: limit, item: ContactResponse.init, cursor: { [$0.id] }))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ContactResponse> {
        let identity = context.identity
        let body = try await RequestDecoding.decode(ContactBody.self, from: request, context: context)
        let fields = try await validated(body.fields, workspaceId: identity.user.workspaceId)
        let contact = try await services.contacts.create(workspaceId: identity.user.workspaceId, fields: fields,
                                                         actorUserId: identity.user.id, at: services.clock.now())
        return JSONResponse(ContactResponse(contact), status: .created)
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ContactResponse> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        guard let contact = try await services.contacts.find(id: id, workspaceId: identity.user.workspaceId) else { throw APIError.notFound("contact") }
        return JSONResponse(ContactResponse(contact))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ContactResponse> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        let body = try await RequestDecoding.decode(ContactBody.self, from: request, context: context)
        let fields = try await validated(body.fields, workspaceId: identity.user.workspaceId)
        guard let contact = try await services.contacts.update(id: id, workspaceId: identity.user.workspaceId, fields: fields,
                                                               actorUserId: identity.user.id, at: services.clock.now()) else {
            throw APIError.notFound("contact")
        }
        return JSONResponse(ContactResponse(contact))
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = try context.requireAdministrator()
        let id = try await context.visibleContact(services)
        guard try await services.contacts.delete(id: id, workspaceId: identity.user.workspaceId, actorUserId: identity.user.id, at: services.clock.now()) else {
            throw APIError.notFound("contact")
        }
        return Response(status: .noContent)
    }

    @Sendable func addIdentity(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<ContactResponse> {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        let body = try await RequestDecoding.decode(IdentityBody.self, from: request, context: context)
        let external = body.externalId.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...256).contains(external.count) else { throw APIError.badRequest("field 'externalId' must be 1 to 256 characters", field: "externalId") }
        do {
            guard let contact = try await services.contacts.addIdentity(
                contactId: id, workspaceId: identity.user.workspaceId, channelId: body.channelId, externalId: external,
                displayName: body.displayName, at: services.clock.now()
            ) else { throw APIError.notFound("contact") }
            return JSONResponse(ContactResponse(contact), status: .created)
        } catch StoreError.notFound {
            throw APIError.unprocessable("unknown_channel", "channel \(body.channelId) is not connected in this workspace", field: "channelId")
        } catch StoreError.conflict(let message) {
            throw APIError(.conflict, code: "identity_taken", message: message, field: "externalId")
        }
    }

    @Sendable func removeIdentity(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = context.identity
        let id = try await context.visibleContact(services)
        let identityId = try context.id("identityId", what: "identity")
        guard try await services.contacts.removeIdentity(contactId: id, workspaceId: identity.user.workspaceId, identityId: identityId) else {
            throw APIError.notFound("identity")
        }
        return Response(status: .noContent)
    }

    @Sendable func listFields(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<CustomFieldDefinition>> {
        let identity = context.identity
        return JSONResponse(Page(items: try await services.customFields.list(workspaceId: identity.user.workspaceId), nextCursor: nil))
    }

    @Sendable func createField(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<CustomFieldDefinition> {
        let identity = try context.requireAdministrator()
        let body = try await RequestDecoding.decode(CustomFieldBody.self, from: request, context: context)
        guard CustomFieldValidation.isValidKey(body.key) else {
            throw APIError.badRequest("field 'key' must be 1 to 64 lowercase letters, digits or underscores, starting with a letter", field: "key")
        }
        let label = body.label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(label.count) else { throw APIError.badRequest("field 'label' must be 1 to 100 characters", field: "label") }
        let options = (body.options ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if body.type.value == .list {
            guard !options.isEmpty, options.count <= 100, options.allSatisfy({ (1...100).contains($0.count) }), Set(options).count == options.count else {
                throw APIError.badRequest("field 'options' must list 1 to 100 distinct values for a list field", field: "options")
            }
        } else if !options.isEmpty {
            throw APIError.badRequest("field 'options' is only for list fields", field: "options")
        }
        do {
            let definition = try await services.customFields.create(
                workspaceId: identity.user.workspaceId,
                definition: CustomFieldDefinition(key: body.key, label: label, type: body.type.value, options: options), at: services.clock.now()
            )
            return JSONResponse(definition, status: .created)
        } catch StoreError.conflict(let message) {
            throw APIError.conflict(message)
        }
    }

    @Sendable func deleteField(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = try context.requireAdministrator()
        guard let key = context.parameters.get("key"), try await services.customFields.delete(workspaceId: identity.user.workspaceId, key: key) else {
            throw APIError.notFound("custom field")
        }
        return Response(status: .noContent)
    }
}
