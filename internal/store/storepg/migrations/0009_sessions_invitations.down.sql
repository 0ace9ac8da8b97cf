DROP TABLE invitations;
DROP TABLE sessions;
