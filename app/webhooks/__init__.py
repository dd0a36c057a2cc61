"""Webhooks to the Standard Webhooks specification: endpoints, events, signing and delivery."""
