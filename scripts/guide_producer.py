#!/usr/bin/env python3
"""The guide's user-events producer: 100 signups to topic user-events on localhost:9092.

Needs confluent-kafka (Debian: apt-get install python3-confluent-kafka; else pip install confluent-kafka).
Usage: scripts/guide_producer.py [bootstrap-servers]
"""
import json
import sys
import time

from confluent_kafka import Producer

producer = Producer({"bootstrap.servers": sys.argv[1] if len(sys.argv) > 1 else "localhost:9092"})

def delivery_report(err, msg):
    if err is not None:
        print(f"Delivery failed: {err}")

for i in range(100):
    event = {
        "id": i,
        "type": "user.signup",
        "user_id": 1000 + i,
        "email": f"user{i}@example.com",
        "timestamp": time.time(),
    }
    producer.produce("user-events", key=str(event["user_id"]), value=json.dumps(event), callback=delivery_report)
    producer.poll(0)

producer.flush()
print("sent 100 user.signup events to user-events")
