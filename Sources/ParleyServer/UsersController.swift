import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// The workspace's users: everyone may list them (to pick an assignee); owners and managers
/// create them.
struct UsersController {
    let services: Services

    struct CreateUserRequest: Decodable {
        let email: String
        let name: String
        let password: String
        let role: Choice<Role>
    }


    func register(_ api: APIRoutes) {
        api.authenticated(.get, "/api/v1/users", RouteDoc(summary: "Users of the caller's workspace", tag: "users", response: "UserPage",
                                                query: [QueryParameter("cursor", Schema.string, "from nextCursor"), QueryParameter("limit", Schema.integer, "1 to 200, default 50")]),
                handler: list)
        api.authenticated(.post, "/api/v1/users", RouteDoc(summary: "Create a user (owners and managers; only an owner creates owners)", tag: "users",
                                                 body: "CreateUserRequest", response: "User", status: 201, errors: [403, 409]), handler: create)
        api.authenticated(.get, "/api/v1/users/{id}", RouteDoc(summary: "One user", tag: "users", response: "User", errors: [404]), handler: get)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<User>> {
        let identity = context.identity
        let limit = try Limit.parse(request.uri.queryParameters.get("limit"))
        let after = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 1)?.first
        let users = try await services.users.list(workspaceId: identity.user.workspaceId, afterId: after, limit: limit + 1)
        return JSONResponse(Page(rows: users, limit: limit, item: { $0 }, cursor: { [$0.id] }))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<User> {
        let identity = try context.requireAdministrator()
        let body = try await RequestDecoding.decode(CreateUserRequest.self, from: request, context: context)
        guard identity.user.role.mayGrant(body.role.value) else {
            throw APIError.forbidden("a \(identity.user.role.rawValue) may not create a user with role \(body.role.value.rawValue)")
        }
        let email = body.email.trimmingCharacters(in: .whitespaces)
        guard Validation.isPlausibleEmail(email) else { throw APIError.badRequest("field 'email' is not an email address", field: "email") }
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count) else { throw APIError.badRequest("field 'name' must be 1 to 200 characters", field: "name") }
        guard body.password.count >= Validation.minimumPasswordLength, body.password.utf8.count <= 72 else {
            throw APIError.badRequest("field 'password' must be \(Validation.minimumPasswordLength) to 72 bytes long", field: "password")
        }
        let hash = try await services.passwords.hash(body.password)
        do {
            let user = try await services.users.create(workspaceId: identity.user.workspaceId, email: email, name: name,
                                                       passwordHash: hash, role: body.role.value, actorUserId: identity.user.id,
                                                       at: services.clock.now())
            return JSONResponse(user, status: .created)
        } catch StoreError.conflict(let message) {
            throw APIError.conflict(message)
        }
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<User> {
        let identity = context.identity
        let id = try context.id("id", what: "user")
        guard let user = try await services.users.find(id: id, workspaceId: identity.user.workspaceId) else {
            throw APIError.notFound("user")
        }
        return JSONResponse(user)
    }
}
