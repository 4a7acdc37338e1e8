"""Operations: the demo and the day-to-day commands around a running fleet."""
