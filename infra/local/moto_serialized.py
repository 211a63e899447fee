"""moto_server with DynamoDB requests handled one at a time. Usage: python moto_serialized.py -H HOST -p PORT

moto's TransactWriteItems snapshots the tables and restores the snapshot when a condition fails; in
its threaded server a concurrent request that committed in between is then silently undone. DynamoDB
itself never loses a committed write, so the local stack serializes DynamoDB calls (connections stay
concurrent; other services are untouched) to behave like it for concurrency tests."""
import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialized_call_action(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _serialized_call_action

if __name__ == "__main__":
    main(sys.argv[1:])
