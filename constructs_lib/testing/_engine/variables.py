"""Workflow variables (``Assign``) as Step Functions sets them, where moto's interpreter differs.

AWS (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html):

- the values a state assigns are visible from the next state on: the state's own ``Output`` (and every other
  expression of the state) still sees the values the state was entered with; moto set them at once;
- in a JSONPath state, ``Assign`` reads the result after ``ResultSelector``; moto read the raw result;
- a JSONPath Choice rule may carry ``Assign`` (evaluated against the state's input when the rule matches); moto
  dropped it;
- a Choice state's own ``Assign`` and ``Output`` apply when no rule matches; moto also applied them when the matching
  rule's ``Next`` was the ``Default`` state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PENDING = "_kit_pending_assign"
_RULE_MATCHED = "_kit_choice_rule_matched"


def install(replace: Callable[[Any, str, Any], Any]) -> None:
    """Patch moto's Assign handling; ``replace(owner, name, new)`` patches (and records the undo of) one attribute."""
    from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.state.choice.choice_rule import ChoiceRule
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    def assign_body(self: Any, env: Any) -> None:
        # Every value is evaluated with the variables as they were on entry to the state; they are set when the
        # state ends (below).
        declarations: dict[str, Any] = {}
        for binding in self.declaration_bindings:
            binding.eval(env=env)
            declarations.update(env.stack.pop())
        pending = env.__dict__.setdefault(_PENDING, {})
        pending.update(declarations)

    replace(AssignDecl, "_eval_body", assign_body)

    original_state_body = CommonStateField._eval_body

    def state_body(self: Any, env: Any) -> None:
        env.__dict__.pop(_PENDING, None)
        original_state_body(self, env)
        for identifier, value in env.__dict__.pop(_PENDING, {}).items():
            env.variable_store.set(variable_identifier=identifier, variable_value=value)

    replace(CommonStateField, "_eval_body", state_body)

    class _SelectThenAssign(EvalComponent):
        """ResultSelector, then Assign reading its output (the JSONPath order)."""

        def __init__(self, result_selector: Any, assign: Any) -> None:
            super().__init__()
            self.result_selector = result_selector
            self.assign = assign

        def _eval_body(self, env: Any) -> None:
            self.result_selector.eval(env=env)
            self.assign.eval(env=env)

    original_from_state_props = ExecutionState.from_state_props

    def from_state_props(self: Any, state_props: Any) -> None:
        original_from_state_props(self, state_props)
        if self.result_selector is not None and self.assign_decl is not None:
            self.result_selector = _SelectThenAssign(self.result_selector, self.assign_decl)
            self.assign_decl = None

    replace(ExecutionState, "from_state_props", from_state_props)

    class _RuleWithAssign(ChoiceRule):
        """A JSONPath Choice rule with Assign: ``$`` is the state's input (under the comparison's result)."""

        def _eval_body(self, env: Any) -> None:
            comparison: Any = self.comparison
            assign: Any = self.assign
            comparison.eval(env)
            matched = env.stack.pop()
            if matched is True:
                assign.eval(env=env)
                env.__dict__[_RULE_MATCHED] = True
            env.stack.append(matched)

    original_rule_variable = Preprocessor.visitChoice_rule_comparison_variable

    def visit_rule_variable(self: Any, ctx: Any) -> Any:
        rule = original_rule_variable(self, ctx)
        if rule.assign is not None:
            return rule
        assign = next(
            (found for found in (self.visit(child) for child in ctx.children) if isinstance(found, AssignDecl)), None
        )
        if assign is None:
            return rule
        return _RuleWithAssign(
            comparison=rule.comparison, next_stmt=rule.next_stmt, comment=rule.comment, assign=assign, output=None
        )

    replace(Preprocessor, "visitChoice_rule_comparison_variable", visit_rule_variable)

    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice

    original_rule_body = ChoiceRule._eval_body

    def rule_body(self: Any, env: Any) -> None:
        original_rule_body(self, env)
        # The comparison's result, which the Choice state pops next; a rule nested in And / Or / Not has no Next.
        if self.next_stmt is not None and env.stack[-1] is True:
            env.__dict__[_RULE_MATCHED] = True

    replace(ChoiceRule, "_eval_body", rule_body)

    original_choice_output = StateChoice._eval_state_output

    def choice_output(self: Any, env: Any) -> None:
        if not env.__dict__.pop(_RULE_MATCHED, False):
            original_choice_output(self, env)  # the Default: the state's own Assign and Output apply
            return
        # A rule matched (its Assign and Output ran): moto's own code without the Default's part.
        next_state_name = env.stack.pop()
        if self._is_language_query_jsonpath():
            if self.output_path:
                self.output_path.eval(env=env)
            else:
                env.states.reset(input_value=env.stack.pop())
        env.next_state_name = next_state_name

    replace(StateChoice, "_eval_state_output", choice_output)
