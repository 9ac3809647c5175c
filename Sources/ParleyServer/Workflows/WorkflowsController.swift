import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Workflows: list, create (from JSON or a template), edit, enable, delete, see runs, run on a
/// contact. Everyone may read and run them by hand; owners and managers change them.
struct WorkflowsController {
    let services: Services

    var workflows: WorkflowRepository { WorkflowRepository(database: services.database) }
    var runs: WorkflowRunRepository { WorkflowRunRepository(database: services.database) }

    struct WorkflowResponse: Encodable, Sendable {
        let id: Int64
        let name: String
        let trigger: WorkflowTrigger
        let triggerFields: [String]?
        let triggerTags: [String]?
        let oncePerContact: Bool
        let steps: [WorkflowStep]
        let enabled: Bool
        let template: String?
        /// Where an incoming-webhook workflow is started from.
        let webhookUrl: String?
        /// Only in the answer to the creation of an incoming-webhook workflow.
        let webhookSecret: String?
        let createdAt: Date
        let updatedAt: Date
    }

    struct TemplateRequest: Decodable {
        let template: Choice<WorkflowTemplateKind>
        let options: WorkflowTemplateOptions?
        let enabled: Bool?
    }

    struct TemplateInfo: Encodable, Sendable {
        let key: String
        let title: String
        let summary: String
    }

    struct ManualRunRequest: Decodable {
        let contactId: Int64
    }

    struct RunStarted: Encodable, Sendable {
        let runId: Int64
    }

    struct RunResponse: Encodable, Sendable {
        let id: Int64
        let workflowId: Int64
        let contactId: Int64?
        let conversationId: Int64?
        let eventId: Int64?
        let status: String
        let currentStep: String?
        let results: [String: WorkflowStepResult]
        let steps: [WorkflowRunStepLog]
        let createdAt: Date
        let finishedAt: Date?
    }

    func register(_ api: APIRoutes) {
        let page = [QueryParameter("cursor", Schema.string, "from nextCursor"), QueryParameter("limit", Schema.integer, "1 to 200, default 50")]
        api.authenticated(.get, "/api/v1/workflows", RouteDoc(summary: "Workflows of the workspace", tag: "workflows", response: "WorkflowPage", query: page), handler: list)
        api.authenticated(.post, "/api/v1/workflows", RouteDoc(summary: "Create a workflow (owners and managers)", tag: "workflows", body: "WorkflowInput",
                                                     response: "Workflow", status: 201, errors: [403]), handler: create)
        api.authenticated(.get, "/api/v1/workflow-templates", RouteDoc(summary: "The ready-made workflows", tag: "workflows", response: "WorkflowTemplatePage"),
                handler: templates)
        api.authenticated(.post, "/api/v1/workflows/from-template", RouteDoc(summary: "Create a workflow from a template in one call", tag: "workflows",
                                                                   body: "WorkflowFromTemplate", response: "Workflow", status: 201, errors: [403]),
                handler: fromTemplate)
        api.authenticated(.get, "/api/v1/workflows/{id}", RouteDoc(summary: "One workflow", tag: "workflows", response: "Workflow", errors: [404]), handler: get)
        api.authenticated(.patch, "/api/v1/workflows/{id}", RouteDoc(summary: "Change a workflow's definition or enable/disable it (fields present replace)",
                                                           tag: "workflows", body: "WorkflowPatch", response: "Workflow", errors: [403, 404]), handler: update)
        api.authenticated(.delete, "/api/v1/workflows/{id}", RouteDoc(summary: "Delete a workflow and its runs", tag: "workflows", status: 204, errors: [403, 404]),
                handler: delete)
        api.authenticated(.get, "/api/v1/workflows/{id}/runs", RouteDoc(summary: "A workflow's runs with their step logs, newest first", tag: "workflows",
                                                              response: "WorkflowRunPage", query: page, errors: [404]), handler: listRuns)
        api.authenticated(.post, "/api/v1/workflows/{id}/runs", RouteDoc(summary: "Run a manual workflow on a contact", tag: "workflows", body: "ManualRunRequest",
                                                               response: "WorkflowRunStarted", status: 201, errors: [404, 409]), handler: runManually)
        api.add(.post, "/hooks/workflows/{id}", RouteDoc(summary: "Start an incoming-webhook workflow (X-Parley-Secret header; body names contactId or email)",
                                                         tag: "workflows", authenticated: false, body: "WorkflowHookRequest", response: "WorkflowRunStarted",
                                                         status: 202, errors: [401, 404, 409]), handler: incomingWebhook)
    }

    @Sendable func list(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<WorkflowResponse>> {
        let identity = context.identity
        let limit = try Limit.parse(request.uri.queryParameters.get("limit"))
        let after = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 1)?.first
        let rows = try await workflows.list(workspaceId: identity.user.workspaceId, afterId: after, limit: limit + 1)
        return JSONResponse(Page(rows: rows, limit: limit, item: { present($0) }, cursor: { [$0.id] }))
    }

    @Sendable func get(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<WorkflowResponse> {
        let identity = context.identity
        return JSONResponse(present(try await find(context, identity)))
    }

    @Sendable func create(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<WorkflowResponse> {
        let identity = try context.requireAdministrator()
        let data = try await WorkflowInput.body(request)
        let definition = try WorkflowInput.definition(from: data)
        let enabled = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["enabled"] as? Bool ?? false
        return try await store(definition, enabled: enabled, template: nil, workspaceId: identity.user.workspaceId)
    }

    @Sendable func fromTemplate(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<WorkflowResponse> {
        let identity = try context.requireAdministrator()
        let body = try await RequestDecoding.decode(TemplateRequest.self, from: request, context: context)
        let options = body.options ?? WorkflowTemplateOptions()
        for url in [options.crmUrl, options.postUrl].compactMap({ $0 }) {
            try await WorkflowInput.checkTarget(url, services: services, field: "options")
        }
        switch WorkflowTemplates.build(body.template.value, options: options) {
        case .failure(let problem): throw APIError.badRequest(problem.description, field: problem.field)
        case .success(let definition):
            try await WorkflowInput.checkUsers(definition, services: services, workspaceId: identity.user.workspaceId)
            try await WorkflowInput.defineTemplateFields(definition, services: services, workspaceId: identity.user.workspaceId)
            return try await store(definition, enabled: body.enabled ?? false, template: body.template.value.rawValue, workspaceId: identity.user.workspaceId)
        }
    }

    private func store(_ definition: WorkflowDefinition, enabled: Bool, template: String?, workspaceId: Int64) async throws -> JSONResponse<WorkflowResponse> {
        try await WorkflowInput.checkSteps(definition, services: services, workspaceId: workspaceId)
        var secret: String?
        if definition.trigger == .incomingWebhook { secret = TokenRepository.generate() }
        let created = try await workflows.create(workspaceId: workspaceId, definition: definition, enabled: enabled, template: template,
                                                 webhookSecretHash: secret.map(TokenRepository.hash), start: try await services.eventFeed.head(),
                                                 at: services.clock.now())
        return JSONResponse(present(created, secret: secret), status: .created)
    }

    @Sendable func update(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<WorkflowResponse> {
        let identity = try context.requireAdministrator()
        let current = try await find(context, identity)
        let data = try await WorkflowInput.body(request)
        guard let patch = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError.badRequest("request body must be a JSON object")
        }
        var enabled: Bool?
        if let flag = patch["enabled"] {
            guard let flag = flag as? Bool else { throw APIError.badRequest("field 'enabled' must be a boolean", field: "enabled") }
            enabled = flag
        }
        var definition: WorkflowDefinition?
        if patch.keys.contains(where: { $0 != "enabled" }) {
            // The fields present replace the stored ones; the result is checked as a whole.
            var merged = try JSONSerialization.jsonObject(with: try JSONEncoder.api.encode(current.definition)) as? [String: Any] ?? [:]
            for (key, value) in patch where key != "enabled" { merged[key] = value }
            let next = try WorkflowInput.definition(from: try JSONSerialization.data(withJSONObject: merged))
            try await WorkflowInput.checkSteps(next, services: services, workspaceId: identity.user.workspaceId)
            definition = next
        }
        let now = services.clock.now()
        if enabled == true, !current.enabled {
            // A workflow switched on reacts to what happens from now on, not to what it missed.
            try await workflows.moveCursor(WorkflowRepository.consumer(current.id), to: try await services.eventFeed.head(), now: now)
        }
        guard let updated = try await workflows.update(id: current.id, workspaceId: identity.user.workspaceId, definition: definition,
                                                       enabled: enabled, at: now) else { throw APIError.notFound("workflow") }
        return JSONResponse(present(updated))
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let identity = try context.requireAdministrator()
        guard try await workflows.delete(id: try context.id("id", what: "workflow"), workspaceId: identity.user.workspaceId) else {
            throw APIError.notFound("workflow")
        }
        return Response(status: .noContent)
    }

    @Sendable func templates(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<TemplateInfo>> {
                return JSONResponse(Page(items: WorkflowTemplateKind.allCases.map { TemplateInfo(key: $0.rawValue, title: $0.title, summary: $0.summary) },
                                 nextCursor: nil))
    }

    @Sendable func listRuns(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<Page<RunResponse>> {
        let identity = context.identity
        let workflow = try await find(context, identity)
        let limit = try Limit.parse(request.uri.queryParameters.get("limit"))
        let before = try Cursor.decode(request.uri.queryParameters.get("cursor"), count: 1)?.first
        let rows = try await runs.list(workflowId: workflow.id, workspaceId: identity.user.workspaceId, beforeId: before, limit: limit + 1)
        let logs = try await runs.logs(runIds: rows.prefix(limit).map(\.id))
        return JSONResponse(Page(rows: rows, limit: limit, item: { run in
            RunResponse(id: run.id, workflowId: run.workflowId, contactId: run.contactId, conversationId: run.conversationId, eventId: run.eventId,
                        status: run.status.rawValue, currentStep: run.currentStep, results: run.context.steps, steps: logs[run.id] ?? [],
                        createdAt: run.createdAt, finishedAt: run.finishedAt)
        }, cursor: { [$0.id] }))
    }

    @Sendable func runManually(_ request: Request, context: AuthenticatedContext) async throws -> JSONResponse<RunStarted> {
        let identity = context.identity
        let workflow = try await find(context, identity)
        let body = try await RequestDecoding.decode(ManualRunRequest.self, from: request, context: context)
        guard workflow.definition.trigger == .manual, workflow.enabled else {
            throw APIError.conflict("only an enabled workflow with the manual trigger can be run by hand")
        }
        guard try await services.contacts.find(id: body.contactId, workspaceId: identity.user.workspaceId) != nil else {
            throw APIError.notFound("contact")
        }
        let runId = try await start(workflow, contactId: body.contactId, trigger: [:])
        return JSONResponse(RunStarted(runId: runId), status: .created)
    }

    @Sendable func incomingWebhook(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RunStarted> {
        let id = try context.id("id", what: "workflow")
        guard let (workflow, hash) = try await workflows.findForWebhook(id: id), workflow.definition.trigger == .incomingWebhook, let hash else {
            throw APIError.notFound("workflow")
        }
        guard let secret = request.headers.first(where: { $0.name.canonicalName == "x-parley-secret" })?.value, WorkflowInput.sameHash(TokenRepository.hash(secret), hash) else {
            throw APIError(.unauthorized, code: "unauthorized", message: "the X-Parley-Secret header is missing or wrong")
        }
        guard workflow.enabled else { throw APIError.conflict("the workflow is disabled") }
        let data = try await WorkflowInput.body(request)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError.badRequest("request body must be a JSON object")
        }
        var contactId = (object["contactId"] as? NSNumber)?.int64Value
        if contactId == nil, let email = object["email"] as? String {
            contactId = try await WorkflowActions(database: services.database).contactId(email: email, workspaceId: workflow.workspaceId)
        }
        guard let contactId, try await services.contacts.find(id: contactId, workspaceId: workflow.workspaceId) != nil else {
            throw APIError.notFound("contact")
        }
        let trigger = WorkflowInput.flatten(object)
        let runId = try await start(workflow, contactId: contactId, trigger: trigger)
        return JSONResponse(RunStarted(runId: runId), status: .accepted)
    }

    private func start(_ workflow: StoredWorkflow, contactId: Int64, trigger: [String: String]) async throws -> Int64 {
        let conversation = try await services.conversations.latest(contactId: contactId, workspaceId: workflow.workspaceId)
        let run = NewWorkflowRun(workspaceId: workflow.workspaceId, workflowId: workflow.id, contactId: contactId, conversationId: conversation?.id,
                                 eventId: nil, oncePerContact: workflow.definition.oncePerContact, trigger: trigger)
        guard let runId = try await runs.start(run, at: services.clock.now()) else {
            throw APIError.conflict("this workflow runs once per contact and already ran for this contact")
        }
        return runId
    }

    private func find(_ context: AuthenticatedContext, _ identity: Identity) async throws -> StoredWorkflow {
        guard let workflow = try await workflows.find(id: try context.id("id", what: "workflow"), workspaceId: identity.user.workspaceId) else {
            throw APIError.notFound("workflow")
        }
        return workflow
    }

    func present(_ workflow: StoredWorkflow, secret: String? = nil) -> WorkflowResponse {
        let definition = workflow.definition
        return WorkflowResponse(
            id: workflow.id, name: definition.name, trigger: definition.trigger, triggerFields: definition.triggerFields,
            triggerTags: definition.triggerTags, oncePerContact: definition.oncePerContact, steps: definition.steps, enabled: workflow.enabled,
            template: workflow.template,
            webhookUrl: definition.trigger == .incomingWebhook ? "\(services.configuration.publicURL)/hooks/workflows/\(workflow.id)" : nil,
            webhookSecret: secret, createdAt: workflow.createdAt, updatedAt: workflow.updatedAt)
    }
}
