import Foundation

/// The ready-made workflows, each created with one call.
public enum WorkflowTemplateKind: String, Codable, Sendable, CaseIterable {
    case vipRouting = "vip_routing"
    case newVsReturning = "new_vs_returning"
    case csatAfterClose = "csat_after_close"
    case unassignAfterClose = "unassign_after_close"

    public var title: String {
        switch self {
        case .vipRouting: return "Route VIP contacts"
        case .newVsReturning: return "Route new and returning contacts"
        case .csatAfterClose: return "CSAT after close"
        case .unassignAfterClose: return "Unassign after close"
        }
    }

    public var summary: String {
        switch self {
        case .vipRouting: return "When a conversation opens, a contact tagged VIP (or marked VIP by your CRM) goes to the VIP team in turn."
        case .newVsReturning: return "When a conversation opens, new contacts go to one team and returning contacts to another, in turn."
        case .csatAfterClose: return "After a close, asks for a 1–5 rating on the same channel, stores it in a contact field and posts it to your URL."
        case .unassignAfterClose: return "After a close, the conversation is unassigned, so the next one starts in the shared queue."
        }
    }
}

/// What a template needs from the workspace.
public struct WorkflowTemplateOptions: Codable, Sendable, Equatable {
    /// The team: VIP agents, or agents for new contacts.
    public var userIds: [Int64]?
    /// Agents for returning contacts.
    public var returningUserIds: [Int64]?
    public var onlineOnly: Bool?
    /// The VIP tag (default `vip`).
    public var tag: String?
    /// VIP routing: a CRM URL answering JSON with a `vip` value (true or "true").
    public var crmUrl: String?
    /// CSAT: where the rating is posted.
    public var postUrl: String?
    /// CSAT: the contact field that keeps the rating (default `csat`).
    public var field: String?

    public init(userIds: [Int64]? = nil, returningUserIds: [Int64]? = nil, onlineOnly: Bool? = nil, tag: String? = nil,
                crmUrl: String? = nil, postUrl: String? = nil, field: String? = nil) {
        self.userIds = userIds
        self.returningUserIds = returningUserIds
        self.onlineOnly = onlineOnly
        self.tag = tag
        self.crmUrl = crmUrl
        self.postUrl = postUrl
        self.field = field
    }
}

public enum WorkflowTemplates {
    /// The workflow a template makes with these options, or the option that is missing or wrong.
    public static func build(_ kind: WorkflowTemplateKind, options: WorkflowTemplateOptions) -> Result<WorkflowDefinition, WorkflowProblem> {
        func missing(_ field: String, _ message: String) -> Result<WorkflowDefinition, WorkflowProblem> {
            .failure(WorkflowProblem(step: nil, field: "options.\(field)", message: message))
        }
        var steps: [WorkflowStep] = []
        let definition: WorkflowDefinition
        switch kind {
        case .vipRouting:
            guard let team = options.userIds, !team.isEmpty else { return missing("userIds", "VIP routing needs the VIP team's userIds") }
            var conditions = [WorkflowCondition(kind: .tag, tag: options.tag ?? "vip")]
            if let crm = options.crmUrl {
                var lookup = WorkflowStep(id: "crm-lookup", type: .httpRequest)
                lookup.method = "GET"
                lookup.url = crm
                lookup.responseFields = ["crm_vip": "vip"]
                lookup.seconds = 10
                lookup.continueOnFailure = true
                steps.append(lookup)
                conditions.append(WorkflowCondition(kind: .field, field: "crm_vip", op: .equals, value: "true"))
            }
            var check = WorkflowStep(id: "is-vip", type: .branch)
            check.match = "any"
            check.conditions = conditions
            check.else = WorkflowValidation.endTarget
            steps.append(check)
            steps.append(assign("assign-vip", team, options.onlineOnly))
            definition = WorkflowDefinition(name: kind.title, trigger: .conversationOpened, steps: steps)
        case .newVsReturning:
            guard let fresh = options.userIds, !fresh.isEmpty else { return missing("userIds", "the agents for new contacts are needed") }
            guard let returning = options.returningUserIds, !returning.isEmpty else {
                return missing("returningUserIds", "the agents for returning contacts are needed")
            }
            var check = WorkflowStep(id: "returning", type: .branch)
            check.conditions = [WorkflowCondition(kind: .returning)]
            check.then = "assign-returning"
            check.else = "assign-new"
            var toReturning = assign("assign-returning", returning, options.onlineOnly)
            toReturning.next = WorkflowValidation.endTarget
            definition = WorkflowDefinition(name: kind.title, trigger: .conversationOpened,
                                            steps: [check, toReturning, assign("assign-new", fresh, options.onlineOnly)])
        case .csatAfterClose:
            let field = options.field ?? "csat"
            var ask = WorkflowStep(id: "ask", type: .askQuestion)
            ask.text = "How would you rate the help you got? Reply with a number from 1 (poor) to 5 (excellent)."
            ask.retryText = "Sorry, I need a single number from 1 to 5."
            ask.answer = "rating"
            ask.field = field
            ask.seconds = 24 * 3600
            var answered = WorkflowStep(id: "answered", type: .branch)
            answered.conditions = [WorkflowCondition(kind: .step, step: "ask", outcome: "succeeded")]
            answered.else = WorkflowValidation.endTarget
            steps = [ask, answered]
            if let url = options.postUrl {
                var post = WorkflowStep(id: "post", type: .httpRequest)
                post.method = "POST"
                post.url = url
                post.body = #"{"contactId": {{contact.id}}, "name": "{{contact.name}}", "email": "{{contact.email}}", "rating": {{steps.ask.answer}}, "conversationId": "{{conversation.id}}", "channel": "{{channel}}"}"#
                post.seconds = 10
                post.continueOnFailure = true
                steps.append(post)
            }
            var thanks = WorkflowStep(id: "thanks", type: .sendMessage)
            thanks.text = "Thank you for your feedback!"
            steps.append(thanks)
            definition = WorkflowDefinition(name: kind.title, trigger: .conversationClosed, steps: steps)
        case .unassignAfterClose:
            definition = WorkflowDefinition(name: kind.title, trigger: .conversationClosed, steps: [WorkflowStep(id: "unassign", type: .unassign)])
        }
        if let problem = WorkflowValidation.problem(in: definition) {
            return .failure(problem.step == nil ? problem : WorkflowProblem(step: nil, field: "options", message: problem.description))
        }
        return .success(definition)
    }

    static func assign(_ id: String, _ team: [Int64], _ onlineOnly: Bool?) -> WorkflowStep {
        var step = WorkflowStep(id: id, type: .assign)
        step.mode = .roundRobin
        step.userIds = team
        step.onlineOnly = onlineOnly
        return step
    }
}
