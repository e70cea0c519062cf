#!/usr/bin/env python3
"""The guide's order producer: random orders to topic orders on localhost:9092.

Needs confluent-kafka (Debian: apt-get install python3-confluent-kafka; else pip install confluent-kafka).
Usage: scripts/guide_order_producer.py [count] [bootstrap-servers]
"""
import json
import random
import sys
import time
import uuid

from confluent_kafka import Producer

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
producer = Producer({"bootstrap.servers": sys.argv[2] if len(sys.argv) > 2 else "localhost:9092"})
categories = ["electronics", "books", "clothing", "home", "sports", "toys"]

for _ in range(count):
    order = {
        "order_id": str(uuid.uuid4()),
        "user_id": random.randint(1000, 1099),
        "category": random.choice(categories),
        "total": round(random.uniform(10, 500), 2),
        "timestamp": time.time(),
    }
    producer.produce("orders", key=order["order_id"], value=json.dumps(order))
    producer.poll(0)

producer.flush()
print(f"sent {count} orders to orders")
