DROP TABLE schedule_slots;
