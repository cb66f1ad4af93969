"""Rating: 好差评 from every channel, surveys, rectifications, satisfaction figures."""
