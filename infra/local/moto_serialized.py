"""moto_server with DynamoDB requests handled one at a time, and TransactWriteItems without table
copies. Usage: python moto_serialized.py -H HOST -p PORT

Two gaps of moto's DynamoDB matter here:
- TransactWriteItems deep-copies every table it touches (items, indexes, stream records) before it
  starts and restores that copy when a condition fails. In the threaded server a concurrent write that
  committed in between is then silently undone, and every transaction costs time in proportion to the
  whole table. DynamoDB itself never loses a committed write and does not slow down as a table grows.
- `/moto-api/data.json` checks each attribute can be written as JSON, then writes them all: a
  DynamoDB write in between (a stream record appended to a shard) makes it answer 500. So the dump
  takes the same lock as DynamoDB calls.
- So this wrapper serializes DynamoDB calls (connections stay concurrent; other services are
  untouched), and, with nothing able to interleave, runs a transaction the way DynamoDB defines it:
  every condition is checked against the state before the transaction, and only when all hold are all
  writes applied. DynamoDB forbids two operations on one item in a transaction, so checking first is
  the same as checking as it goes, and a failed transaction writes nothing without any copy.

With MOTO_CALL_LOG set to a file, every DynamoDB request appends one line `<table> <action>` to it
(`make bench` counts the requests each operation makes, at the server, whatever client made them).
"""
import json
import os
import sys
import threading

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.moto_api._internal.responses import MotoAPIResponse
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


_call_log = os.environ.get("MOTO_CALL_LOG")


def _table_of(body):
    """The table a DynamoDB request names (a transaction's first item's table)."""
    try:
        request = json.loads(body or "{}")
    except ValueError:
        return "-"
    if "TableName" in request:
        return request["TableName"]
    for entry in request.get("TransactItems", []):
        for op in entry.values():
            return op.get("TableName", "-")
    return next(iter(request.get("RequestItems", {"-": None})))


def _serialized_call_action(self):
    with _lock:
        if _call_log:
            action = self.headers.get("X-Amz-Target", "").rpartition(".")[2] or "-"
            with open(_call_log, "a") as log:
                log.write(f"{_table_of(self.body)} {action}\n")
        return _call_action(self)


def _transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen = set()
    planned = []
    reasons = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        table = self.get_table(table_name)
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        identity = (str(table_name), str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        condition = op.get("ConditionExpression")
        if condition is not None:
            current = self.get_item(table_name, key)
            check = get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
            if not check.expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                reasons.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
                continue
        reasons.append((None, None, None))
        planned.append((op_type, op, table_name, key))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    for op_type, op, table_name, key in planned:
        if op_type == "Put":
            self.put_item(table_name, op["Item"])
        elif op_type == "Delete":
            self.delete_item(table_name, key)
        elif op_type == "Update":
            self.update_item(
                table_name,
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=op.get("ExpressionAttributeNames"),
                expression_attribute_values=op.get("ExpressionAttributeValues"),
            )


_model_data = MotoAPIResponse.model_data


def _serialized_model_data(self, *args, **kwargs):
    with _lock:
        return _model_data(self, *args, **kwargs)


DynamoHandler.call_action = _serialized_call_action
MotoAPIResponse.model_data = _serialized_model_data
DynamoDBBackend.transact_write_items = _transact_write_items

if __name__ == "__main__":
    main(sys.argv[1:])
