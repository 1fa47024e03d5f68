"""``lobby simulate``: a day played through the real engine on a virtual clock and measured as
the supervisor's reports measure a real one, to plan tomorrow and to compare estimators."""
