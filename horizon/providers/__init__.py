"""Each vendor behind one small protocol: the Twilio and OpenAI providers and their SDK clients."""
