//! Learner leaderboards and the achievements catalogue (`docs/learning.md`,
//! "Leaderboards"): learners of a project ranked by current streak, sessions or points;
//! learners who opted out never appear; and every achievement, locked ones included,
//! with a learner's progress toward each.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_learning::achievements::{Achievement, CATALOG, Category};

use crate::{Analytics, Error, Result};

/// The most entries one leaderboard answers.
pub const MAX_LEADERBOARD: usize = 100;
/// Entries when no limit is asked.
pub const DEFAULT_LEADERBOARD: usize = 10;

/// What learners are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaderboardBy {
    /// The current streak, in active days.
    Streak,
    /// Sessions in the project.
    Sessions,
    /// Points: the sum of the points of the achievements unlocked.
    Points,
}

impl LeaderboardBy {
    pub const ALL: [LeaderboardBy; 3] = [
        LeaderboardBy::Streak,
        LeaderboardBy::Sessions,
        LeaderboardBy::Points,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LeaderboardBy::Streak => "streak",
            LeaderboardBy::Sessions => "sessions",
            LeaderboardBy::Points => "points",
        }
    }

    pub fn from_name(name: &str) -> Option<LeaderboardBy> {
        LeaderboardBy::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// One learner's place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaderboardEntry {
    /// 1 for the best; learners with the same value share a rank, and the next rank
    /// skips as many places (1, 1, 3).
    pub rank: usize,
    /// The learner's user id as stored.
    pub user: String,
    /// The figure ranked by.
    pub value: u64,
    pub streak_days: u32,
    pub sessions: u64,
    pub points: u32,
}

/// A project's leaderboard.
#[derive(Debug, Clone, Serialize)]
pub struct Leaderboard {
    pub by: LeaderboardBy,
    pub at: DateTime<Utc>,
    /// The project ranked (`None`: every project).
    pub project: Option<String>,
    /// Learners ranked (those who opted out are not counted).
    pub learners: usize,
    /// The best `limit`, by rank, ties by user id (byte order).
    pub entries: Vec<LeaderboardEntry>,
}

/// Ranks `entries` by `value`, best first: equal values share a rank (competition
/// ranking), ordered by user id.
pub fn rank(mut entries: Vec<LeaderboardEntry>) -> Vec<LeaderboardEntry> {
    entries.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.user.cmp(&b.user)));
    let mut previous: Option<(u64, usize)> = None;
    for (index, entry) in entries.iter_mut().enumerate() {
        entry.rank = match previous {
            Some((value, rank)) if value == entry.value => rank,
            _ => index + 1,
        };
        previous = Some((entry.value, entry.rank));
    }
    entries
}

/// One catalogue entry, with a learner's progress when one is asked about.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueEntry {
    #[serde(flatten)]
    pub achievement: Achievement,
    /// `None` without a learner.
    pub unlocked: Option<bool>,
    pub unlocked_at: Option<DateTime<Utc>>,
    /// The learner's measure as of `at`.
    pub value: Option<f64>,
    /// Progress toward the threshold in percent (100 once unlocked).
    pub percent: Option<f64>,
}

/// The achievements catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Catalogue {
    pub at: DateTime<Utc>,
    pub learner: Option<String>,
    pub category: Option<Category>,
    pub total: usize,
    /// Unlocked by the learner (`None` without one).
    pub unlocked: Option<usize>,
    pub achievements: Vec<CatalogueEntry>,
}

/// The category a name (`streak`, `sessions`, `quality`, `topics`, `goals`,
/// `milestones`) names.
pub fn category_from_name(name: &str) -> Option<Category> {
    CATALOG.iter().map(|a| a.category).find(|c| {
        serde_json::to_value(c)
            .ok()
            .as_ref()
            .and_then(|v| v.as_str())
            == Some(name)
    })
}

/// Every category's name, for messages.
pub fn category_names() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for achievement in CATALOG {
        let name = serde_json::to_value(achievement.category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

impl Analytics {
    /// Opts `user` out of leaderboards (`true`) or back in.
    ///
    /// # Errors
    /// An empty user, or the store fails.
    pub fn set_learner_opt_out(&self, user: &str, opted_out: bool) -> Result<()> {
        if user.is_empty() {
            return Err(Error::Filter("user: must not be empty".into()));
        }
        Ok(self.store.set_learner_opt_out(user, opted_out)?)
    }

    /// Whether `user` opted out of leaderboards.
    ///
    /// # Errors
    /// The store fails.
    pub fn learner_opted_out(&self, user: &str) -> Result<bool> {
        Ok(self.store.opted_out_learners()?.iter().any(|u| u == user))
    }

    /// The learners of the project limit (every project without one) ranked by `by` as
    /// of `at`, the best `limit` (at most [`MAX_LEADERBOARD`]); opted-out learners are
    /// left out before ranking.
    ///
    /// # Errors
    /// `limit` out of range, a storage failure or a stored time zone this build does not
    /// know.
    pub fn learning_leaderboard(
        &self,
        by: LeaderboardBy,
        limit: usize,
        at: Option<DateTime<Utc>>,
    ) -> Result<Leaderboard> {
        if limit == 0 || limit > MAX_LEADERBOARD {
            return Err(Error::Filter(format!(
                "limit: expected a number from 1 to {MAX_LEADERBOARD}, got {limit}"
            )));
        }
        let at = at.unwrap_or(self.view_options().now);
        let opted_out = self.store.opted_out_learners()?;
        let mut entries = Vec::new();
        for user in self.learners()? {
            if opted_out.binary_search(&user).is_ok() {
                continue;
            }
            let achievements = self.learning_achievements(&user, Some(at))?;
            let streak = self.learning_streak(&user, Some(at))?.streak.current_days;
            let sessions: u64 = self
                .learner(&user, at)?
                .activity
                .iter()
                .map(|a| a.sessions)
                .sum();
            if sessions == 0 {
                continue;
            }
            let points = achievements.points;
            entries.push(LeaderboardEntry {
                rank: 0,
                value: match by {
                    LeaderboardBy::Streak => u64::from(streak),
                    LeaderboardBy::Sessions => sessions,
                    LeaderboardBy::Points => u64::from(points),
                },
                user,
                streak_days: streak,
                sessions,
                points,
            });
        }
        let mut ranked = rank(entries);
        let learners = ranked.len();
        ranked.truncate(limit);
        Ok(Leaderboard {
            by,
            at,
            project: self.project_limit.clone(),
            learners,
            entries: ranked,
        })
    }

    /// Every achievement of the catalogue (of `category`, when given), locked ones
    /// included; with `learner`, each one's state and the learner's progress toward it
    /// as of `at`.
    ///
    /// # Errors
    /// A storage failure or a stored time zone this build does not know.
    pub fn achievement_catalogue(
        &self,
        learner: Option<&str>,
        category: Option<Category>,
        at: Option<DateTime<Utc>>,
    ) -> Result<Catalogue> {
        let at = at.unwrap_or(self.view_options().now);
        let earned = match learner {
            Some(user) => {
                let history = self.learner(user, at)?;
                Some(self.earned(&history, at)?)
            }
            None => None,
        };
        let achievements: Vec<CatalogueEntry> = CATALOG
            .iter()
            .enumerate()
            .filter(|(_, a)| category.is_none_or(|c| a.category == c))
            .map(|(index, achievement)| {
                let mine = earned.as_ref().and_then(|e| e.get(index));
                CatalogueEntry {
                    achievement: *achievement,
                    unlocked: mine.map(|e| e.unlocked_at.is_some()),
                    unlocked_at: mine.and_then(|e| e.unlocked_at),
                    value: mine.map(|e| e.value),
                    percent: mine.map(|e| e.percent),
                }
            })
            .collect();
        Ok(Catalogue {
            at,
            learner: learner.map(str::to_owned),
            category,
            total: achievements.len(),
            unlocked: earned.as_ref().map(|_| {
                achievements
                    .iter()
                    .filter(|a| a.unlocked == Some(true))
                    .count()
            }),
            achievements,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: &str, value: u64) -> LeaderboardEntry {
        LeaderboardEntry {
            rank: 0,
            user: user.to_owned(),
            value,
            streak_days: 0,
            sessions: 0,
            points: 0,
        }
    }

    #[test]
    fn ties_share_a_rank_and_are_ordered_by_user() {
        let ranked = rank(vec![
            entry("carol", 5),
            entry("bob", 9),
            entry("dave", 5),
            entry("alice", 5),
            entry("erin", 1),
        ]);
        let shown: Vec<(usize, &str)> = ranked.iter().map(|e| (e.rank, e.user.as_str())).collect();
        assert_eq!(
            shown,
            [
                (1, "bob"),
                (2, "alice"),
                (2, "carol"),
                (2, "dave"),
                (5, "erin")
            ]
        );
    }

    #[test]
    fn names_are_read_back() {
        for by in LeaderboardBy::ALL {
            assert_eq!(LeaderboardBy::from_name(by.name()), Some(by));
        }
        assert_eq!(category_from_name("streak"), Some(Category::Streak));
        assert_eq!(category_from_name("nope"), None);
        assert_eq!(
            category_names(),
            [
                "streak",
                "sessions",
                "quality",
                "topics",
                "goals",
                "milestones"
            ]
        );
    }
}
