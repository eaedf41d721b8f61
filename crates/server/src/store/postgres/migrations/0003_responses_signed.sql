-- A ward team: each response is signed as its councillor chose (their name,
-- or the ward team), and an officer adds the police team's response. Both
-- are kept on the step that made them; steps from before are unsigned.
ALTER TABLE report_events ADD COLUMN signed TEXT;
ALTER TABLE report_events ADD COLUMN police_response TEXT;
