from typing import Any

from slack_reporter import report, report_errors


class CardDeclinedError(Exception):
    pass


def charge(event: dict[str, Any]) -> None:
    if event.get("amount", 0) > 1000:
        raise CardDeclinedError(f"{event['amount']} is over the card's limit")


@report_errors  # uncaught: reported, then re-raised
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    try:
        charge(event)
    except CardDeclinedError as error:
        report(error, context=context)  # handled: reported, the function goes on
        return {"status": "DECLINED"}
    return {"status": "CHARGED"}
